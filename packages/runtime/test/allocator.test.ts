import { describe, expect, it } from 'vitest';
import { ALLOCATOR_DEFAULTS, allocatorEnv } from '../src/allocator.js';

describe('allocator defaults', () => {
  it("gives mimalloc (lz4-napi's allocator) a purge delay of 0 unless the environment sets one", () => {
    expect(ALLOCATOR_DEFAULTS.MIMALLOC_PURGE_DELAY).toBe('0');
    expect(allocatorEnv({})).toEqual({ MIMALLOC_PURGE_DELAY: '0' });
    expect(allocatorEnv({ MIMALLOC_PURGE_DELAY: '' })).toEqual({ MIMALLOC_PURGE_DELAY: '0' });
    expect(allocatorEnv({ MIMALLOC_PURGE_DELAY: '10' })).toEqual({});
  });
});
