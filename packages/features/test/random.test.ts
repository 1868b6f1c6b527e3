import { describe, expect, it } from 'vitest';
import { createRandom } from '../src/index.js';

describe('seeded random', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = createRandom(42), b = createRandom(42), c = createRandom(43);
    const take = (r: ReturnType<typeof createRandom>) => Array.from({ length: 5 }, () => r.next());
    const sa = take(a);
    expect(take(b)).toEqual(sa);
    expect(take(c)).not.toEqual(sa);
  });

  it('resumes from a saved state', () => {
    const r = createRandom(7);
    r.next();
    const saved = createRandom(r.state());
    expect(saved.next()).toBe(r.next());
  });

  it('has the right moments', () => {
    const r = createRandom(1);
    let sum = 0, sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) { const x = r.normal(10, 2); sum += x; sq += x * x; }
    const mean = sum / n;
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(sq / n - mean * mean)).toBeCloseTo(2, 1);
    const ints = new Set(Array.from({ length: 1000 }, () => r.int(1, 3)));
    expect([...ints].sort()).toEqual([1, 2, 3]);
  });
});
