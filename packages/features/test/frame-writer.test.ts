import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../src/wire/bytes.js';
import { decodeFrame, encodeFrame } from '../src/wire/frame.js';
import { FEATURE_COUNT } from '../src/featurize/catalog.js';
import { createRandom } from '../src/random.js';

const values = (seed: number) => Float64Array.from({ length: FEATURE_COUNT }, (_, i) => (i % 7 === 0 ? NaN : seed * 1000 + i + (i % 3) / 10));

describe('encodeFrame (one writer for every frame)', () => {
  it('gives each frame bytes of its own: a later frame never changes an earlier one', () => {
    const first = encodeFrame('V', JSON.stringify({ n: 1, text: 'é漢字\ud83d' }), values(1));
    const copy = Buffer.from(first);
    const second = encodeFrame('V', JSON.stringify({ n: 2, long: 'x'.repeat(40_000) }), values(2));
    expect(first).toEqual(copy);
    expect(decodeFrame(first, 'V').header).toEqual({ n: 1, text: 'é漢字\ud83d' });
    expect(decodeFrame(second, 'V').header).toEqual({ n: 2, long: 'x'.repeat(40_000) });
    expect(Array.from(decodeFrame(first, 'V').values)).toEqual(Array.from(values(1)));
  });

  it('writes the header as TextEncoder does, length prefix included', () => {
    const header = JSON.stringify({ s: 'aé漢😀' });
    const frame = encodeFrame('S', header, values(3));
    const bytes = new TextEncoder().encode(header);
    expect(frame.readUInt32LE(5)).toBe(bytes.length);
    expect(frame.subarray(9, 9 + bytes.length)).toEqual(Buffer.from(bytes));
  });

  it('starts clean after a frame whose values could not be packed', () => {
    expect(() => encodeFrame('V', '{}', { length: 3, 0: 1, get 1(): number { throw new Error('boom'); }, 2: 3 })).toThrow('boom');
    const frame = encodeFrame('V', '{"ok":true}', values(4));
    expect(decodeFrame(frame, 'V').header).toEqual({ ok: true });
  });
});

describe('ByteWriter.varint', () => {
  /** LEB128 by arithmetic, as first written (exact past 2^32). */
  function reference(v: number): number[] {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return out;
  }

  it('writes the same bytes as the arithmetic form on both sides of 2^31 and up to 2^53', () => {
    const values = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 48 * 4 + 3, Number.MAX_SAFE_INTEGER];
    const rng = createRandom(11);
    for (let i = 0; i < 2000; i++) values.push(Math.floor(rng.next() * 2 ** (1 + (i % 53))));
    for (const v of values) {
      const w = new ByteWriter(4);
      w.varint(v);
      expect(Array.from(w.take()), String(v)).toEqual(reference(v));
    }
  });
});
