// The embedded warehouse is opened with a memory limit and one thread: DuckDB's default
// (80 % of the machine's memory, used as a cache, and a thread per core) let the sink's
// memory swing up to 1 GB under load. The values are the bench's (README, "DuckDB memory").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DUCKDB_ALLOCATOR, DUCKDB_CHECKPOINT_THRESHOLD, DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS, duckdbInstanceOptions } from '../src/warehouse/duckdb.js';

const UNITS = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, KB: 1e3, MB: 1e6, GB: 1e9 } as const;
const bytes = (text: string) => {
  const m = /^([\d.]+)\s*(KiB|MiB|GiB|KB|MB|GB)$/.exec(text);
  if (!m) throw new Error(`unexpected size ${text}`);
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
};

async function settingsOf(options: Record<string, string>): Promise<{ memory: number; threads: number; flushThreshold: number; backgroundThreads: boolean; checkpoint: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-duckdb-mem-'));
  const instance = await DuckDBInstance.create(join(dir, 'w.duckdb'), options);
  const connection = await instance.connect();
  try {
    const [row] = (
      await connection.runAndReadAll(
        `SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('allocator_flush_threshold'), current_setting('allocator_background_threads'), current_setting('checkpoint_threshold')`,
      )
    ).getRows();
    return {
      memory: bytes(String(row![0])),
      threads: Number(row![1]),
      flushThreshold: bytes(String(row![2])),
      backgroundThreads: String(row![3]) === 'true',
      checkpoint: bytes(String(row![4])),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DuckDB warehouse settings', () => {
  it(`opens with memory_limit ${DUCKDB_MEMORY_LIMIT} and ${DUCKDB_THREADS} thread(s), far below DuckDB's own defaults`, async () => {
    const ours = await settingsOf(duckdbInstanceOptions({}));
    expect(ours.memory / bytes(DUCKDB_MEMORY_LIMIT)).toBeCloseTo(1, 1);
    expect(ours.threads).toBe(DUCKDB_THREADS);
    expect((await settingsOf({})).memory).toBeGreaterThan(ours.memory);
  });

  it('returns freed memory early: a flush threshold of 16 MB (DuckDB: 128 MiB) and a background thread', async () => {
    const ours = await settingsOf(duckdbInstanceOptions({}));
    expect(ours.flushThreshold / bytes(DUCKDB_ALLOCATOR.allocator_flush_threshold)).toBeCloseTo(1, 1);
    expect(ours.flushThreshold).toBeLessThan((await settingsOf({})).flushThreshold);
    expect(ours.backgroundThreads).toBe(true);
  });

  // With small row groups a checkpoint writes about what the WAL held, so a small threshold
  // keeps each one short (duckdb.ts, DUCKDB_CHECKPOINT_THRESHOLD and DUCKDB_ROW_GROUP_SIZE).
  it(`checkpoints every ${DUCKDB_CHECKPOINT_THRESHOLD} of WAL`, async () => {
    const ours = await settingsOf(duckdbInstanceOptions({}));
    expect(ours.checkpoint / bytes(DUCKDB_CHECKPOINT_THRESHOLD)).toBeCloseTo(1, 1);
    expect((await settingsOf(duckdbInstanceOptions({ checkpointThreshold: '256MB' }))).checkpoint).toBeGreaterThan(ours.checkpoint * 4);
  });

  it('can be set by whoever opens the warehouse', async () => {
    const set = await settingsOf(duckdbInstanceOptions({ memoryLimit: '1GB', threads: 2 }));
    expect(set.memory).toBeGreaterThan(900e6);
    expect(set.threads).toBe(2);
  });
});

// DuckDB's jemalloc reads DUCKDB_JE_MALLOC_CONF once, when DuckDB first allocates; main.ts
// sets it from @ehr/runtime's allocator defaults before anything loads DuckDB. A process that
// does the same, with jemalloc asked to print its options at exit, shows they were taken.
describe("DuckDB's allocator options", () => {
  it('are read from process.env as main.ts sets it, before DuckDB loads', () => {
    const script = `
      import { allocatorEnv } from '@ehr/runtime';
      Object.assign(process.env, allocatorEnv(process.env));
      process.env.DUCKDB_JE_MALLOC_CONF += ',stats_print:true,stats_print_opts:mdablxe';
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run('CREATE TABLE t AS SELECT range AS i, repeat(\\'x\\', 100) AS s FROM range(10000)');
      connection.closeSync();
      instance.closeSync();
    `;
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.DUCKDB_JE_MALLOC_CONF;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), env, encoding: 'utf8' });
    const out = run.stdout + run.stderr;
    expect(run.status, out.slice(0, 2000)).toBe(0);
    expect(out).not.toMatch(/<jemalloc>: (Invalid|Malformed)/);
    expect(out).toMatch(/opt\.narenas: 1\b/);
    expect(out).toMatch(/opt\.dirty_decay_ms: 200\b/);
    expect(out).toMatch(/opt\.muzzy_decay_ms: 0\b/);
  });
});
