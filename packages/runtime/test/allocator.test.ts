import { describe, expect, it } from 'vitest';
import { ALLOCATOR_DEFAULTS, allocatorEnv } from '../src/allocator.js';

describe('allocator defaults', () => {
  it("gives mimalloc (lz4-napi's allocator) a purge delay of 0 unless the environment sets one", () => {
    expect(ALLOCATOR_DEFAULTS.MIMALLOC_PURGE_DELAY).toBe('0');
    expect(allocatorEnv({})).toMatchObject({ MIMALLOC_PURGE_DELAY: '0' });
    expect(allocatorEnv({ MIMALLOC_PURGE_DELAY: '' })).toMatchObject({ MIMALLOC_PURGE_DELAY: '0' });
    expect(allocatorEnv({ MIMALLOC_PURGE_DELAY: '10' })).not.toHaveProperty('MIMALLOC_PURGE_DELAY');
  });

  it("gives DuckDB's jemalloc one arena and short purge delays unless the environment sets its own", () => {
    expect(allocatorEnv({}).DUCKDB_JE_MALLOC_CONF).toBe('narenas:1,dirty_decay_ms:200,muzzy_decay_ms:0');
    expect(allocatorEnv({ DUCKDB_JE_MALLOC_CONF: 'narenas:4' })).not.toHaveProperty('DUCKDB_JE_MALLOC_CONF');
    expect(Object.keys(allocatorEnv({})).sort()).toEqual(['DUCKDB_JE_MALLOC_CONF', 'MIMALLOC_PURGE_DELAY']);
  });
});
