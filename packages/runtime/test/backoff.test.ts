import { describe, expect, it } from 'vitest';
import { backoffDelay, errorMessage } from '../src/index.js';

describe('backoffDelay', () => {
  const policy = { initialMs: 200, maxMs: 5_000, jitter: 0 };

  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(policy, n))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('takes up to `jitter` of the delay off, never adding to it', () => {
    expect(backoffDelay({ ...policy, jitter: 0.5 }, 3, () => 0)).toBe(800);
    expect(backoffDelay({ ...policy, jitter: 0.5 }, 3, () => 0.999)).toBe(400);
    const drawn = Array.from({ length: 200 }, () => backoffDelay({ initialMs: 1000, maxMs: 1000 }, 1));
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(1000);
    expect(new Set(drawn).size).toBeGreaterThan(1);
  });

  it('treats attempt 0 or below as the first retry', () => {
    expect(backoffDelay(policy, 0)).toBe(200);
    expect(backoffDelay(policy, -3)).toBe(200);
  });
});

describe('errorMessage', () => {
  it("gives an Error's message and anything else's string form", () => {
    expect(errorMessage(new Error('broker gone'))).toBe('broker gone');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
