// The embedded warehouse is opened with a memory limit: DuckDB's default (80 % of the
// machine's memory, used as a cache) let the sink's memory swing up to 1 GB under load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DUCKDB_MEMORY_LIMIT, duckdbInstanceOptions } from '../src/warehouse/duckdb.js';

async function memoryLimitOf(options: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-duckdb-mem-'));
  const instance = await DuckDBInstance.create(join(dir, 'w.duckdb'), options);
  const connection = await instance.connect();
  try {
    const rows = (await connection.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows();
    const text = String(rows[0]![0]);
    const m = /^([\d.]+)\s*(KiB|MiB|GiB|KB|MB|GB)$/.exec(text);
    if (!m) throw new Error(`unexpected memory_limit ${text}`);
    const unit = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'KiB'];
    return Number(m[1]) * unit;
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DuckDB warehouse memory limit', () => {
  it(`is ${DUCKDB_MEMORY_LIMIT} by default, far below DuckDB's own default`, async () => {
    const limited = await memoryLimitOf(duckdbInstanceOptions({}));
    expect(limited).toBeGreaterThan(200e6);
    expect(limited).toBeLessThan(300e6);
    expect(await memoryLimitOf({})).toBeGreaterThan(limited);
  });

  it('can be set by whoever opens the warehouse', async () => {
    expect(await memoryLimitOf(duckdbInstanceOptions({ memoryLimit: '1GB' }))).toBeGreaterThan(900e6);
  });
});
