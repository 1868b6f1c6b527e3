import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRandom, deterministicId } from '../src/index.js';

/** The id as first written (a Hash object, one update per piece): every id ever stored was made so. */
function reference(namespace: string, ...parts: (string | number)[]): string {
  const h = createHash('sha256');
  h.update(namespace);
  for (const part of parts) {
    h.update('\u0000');
    h.update(String(part));
  }
  const b = h.digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

describe('deterministicId', () => {
  it('is the id the Hash-per-piece form gave, for odd inputs too (unicode, lone surrogates, numbers, no parts)', () => {
    const cases: [string, ...(string | number)[]][] = [
      ['x'],
      ['feature_vector', '2.1.0', 'P-1', 'e-1'],
      ['score', 'a', 1],
      ['score', 'a1'],
      ['n', 0.1, -0, 1e21, NaN, -Infinity],
      ['\ud83d', '\ude00', 'é漢字', ''],
      ['', '', ''],
      ['dead-letter', 'feature', 'ehr.events.v1', '2:17', 'unparseable'],
    ];
    for (const [ns, ...parts] of cases) expect(deterministicId(ns, ...parts)).toBe(reference(ns, ...parts));
    const rng = createRandom(5);
    for (let i = 0; i < 2000; i++) {
      const piece = () => String.fromCharCode(...Array.from({ length: Math.floor(rng.next() * 12) }, () => Math.floor(rng.next() * 0xffff)));
      const ns = piece();
      const parts = Array.from({ length: Math.floor(rng.next() * 4) }, piece);
      expect(deterministicId(ns, ...parts)).toBe(reference(ns, ...parts));
    }
  });
});
