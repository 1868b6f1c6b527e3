import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../src/wire/frame.js';
import { FEATURE_COUNT } from '../src/featurize/catalog.js';

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
    expect(() => encodeFrame('V', '{}', { length: 3, 0: 1, get 1(): number { throw new Error('boom'); }, 2: 3 } as ArrayLike<number>)).toThrow('boom');
    const frame = encodeFrame('V', '{"ok":true}', values(4));
    expect(decodeFrame(frame, 'V').header).toEqual({ ok: true });
  });
});
