// `npm run bench -w services/sink` (or `npm run bench` through turbo): what the sink
// sustains into DuckDB and into the Snowflake test server (real snowflake-sdk), per batch
// size; DuckDB's memory settings against the sink's resident memory; the whole sink at
// saturation; and the delay from a score reaching the bus to its committed row at a rate.
// Every whole-sink run is a process of its own (stream.ts), so its peak RSS is its own.
//
// Knobs: BENCH_ROWS (rows per batch-size run, default 20000), BENCH_SIZES (default
// 100,1000,5000), BENCH_SAT_ROWS (scores in a saturation run, default 100000), BENCH_DUCKDB
// (memory_limit/threads pairs, default 64MB/1,128MB/1,256MB/1,128MB/2,duckdb/duckdb),
// BENCH_RATE (scores/s offered in the delay runs, default 2000), BENCH_SECONDS (length of a
// delay run, default 20), BENCH_FLUSH_MS (SINK_FLUSH_MS values tried, default 1000,500),
// BENCH_DUCKDB_RATE (scores/s in the DuckDB memory runs, default 5000), BENCH_ONLY (sections:
// write,duckdb,saturation,delay).
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@ehr/runtime';
import { createWarehouse, loadConfig, type LandBatch, type Warehouse } from '../src/index.js';
import { scoreBatch } from '../test/helpers.js';
import { startBenchSnowflake } from './snowflake.js';
import type { StreamOptions, StreamResult } from './stream.js';

const logger = createLogger({ service: 'sink-bench', level: 'error' });
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const SAT_ROWS = Number(process.env.BENCH_SAT_ROWS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const FLUSH_MS = (process.env.BENCH_FLUSH_MS ?? '1000,500').split(',').map(Number);
/** memory_limit/threads pairs; `duckdb` = DuckDB's own default (80 % of memory, one thread per core). */
const DUCKDB_SETTINGS = (process.env.BENCH_DUCKDB ?? '64MB/1,128MB/1,256MB/1,128MB/2,duckdb/duckdb').split(',');
/** Scores/s offered in the DuckDB memory runs: steady, below saturation, so the bus holds little and the memory is the sink's. */
const DUCKDB_RATE = Number(process.env.BENCH_DUCKDB_RATE ?? 5_000);
/** Sections to run (write, duckdb, saturation, delay); default all. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'write,duckdb,saturation,delay').split(','));
const report: string[] = [];
const out = (line = '') => {
  report.push(line);
  process.stdout.write(`${line}\n`);
};

const dir = mkdtempSync(join(tmpdir(), 'sink-bench-'));
let runs = 0;

interface Target {
  name: string;
  env: () => Promise<{ env: Record<string, string>; stop: () => Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'DuckDB (embedded file)',
    env: async () => ({ env: { DUCKDB_PATH: join(dir, `duck-${runs++}.duckdb`) }, stop: async () => undefined }),
  },
  {
    name: 'Snowflake test server (snowflake-sdk over HTTP)',
    env: () => startBenchSnowflake(join(dir, `sf-${runs++}.duckdb`)),
  },
];

function batchOf(from: number, size: number, expected: bigint): LandBatch {
  return scoreBatch(from, from + size - 1, expected, { run: 'bench', cluster: 'bench' });
}

/** The warehouse write alone: one partition, batches of `size`, each its own transaction. */
async function writeThroughput(target: Target, size: number): Promise<{ rowsPerSecond: number; msPerBatch: number }> {
  const { env, stop } = await target.env();
  const warehouse: Warehouse = createWarehouse(loadConfig(env), logger, dir);
  try {
    await warehouse.init();
    const batches: LandBatch[] = [];
    for (let from = 0; from < ROWS; from += size) batches.push(batchOf(from, Math.min(size, ROWS - from), BigInt(from - 1)));
    const started = performance.now();
    for (const b of batches) await warehouse.land(b);
    const seconds = (performance.now() - started) / 1000;
    return { rowsPerSecond: ROWS / seconds, msPerBatch: (seconds * 1000) / batches.length };
  } finally {
    await warehouse.close();
    await stop();
  }
}

/** One stream run in a child process (its memory its own); see stream.ts. */
function stream(options: StreamOptions): StreamResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./stream.ts', import.meta.url)), JSON.stringify(options)], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as StreamResult;
  } catch {
    throw new Error(`bench run failed (${child.status}): ${child.stderr.slice(-2000)}`);
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

out(`# sink bench — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
out();
if (ONLY.has('write')) {
  out(`## Warehouse write: one partition, ${fmt(ROWS)} rows per size, one transaction per batch (insert + id anti-join + offset log + guarded offset move + commit)`);
  out();
  out('| warehouse | batch size | rows/s | ms per batch |');
  out('|---|---:|---:|---:|');
  for (const target of targets) {
    for (const size of SIZES) {
      const r = await writeThroughput(target, size);
      out(`| ${target.name} | ${fmt(size)} | ${fmt(r.rowsPerSecond)} | ${fmt(r.msPerBatch, 1)} |`);
    }
  }
  out();
}
const warehouses: { name: string; warehouse: StreamOptions['warehouse'] }[] = [
  { name: 'DuckDB (embedded file)', warehouse: 'duckdb' },
  { name: 'Snowflake test server (snowflake-sdk over HTTP)', warehouse: 'snowflake' },
];

if (ONLY.has('duckdb')) {
  out(`## DuckDB memory: the whole sink, ${fmt(SAT_ROWS)} scores at ${fmt(DUCKDB_RATE)}/s, 6 partitions, default flush, one process per setting`);
  out();
  out('| memory_limit | threads | landed | rows/s | p99 ms | RSS at start MiB | peak RSS MiB |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  for (const setting of DUCKDB_SETTINGS) {
    const [memoryLimit, threads] = setting.split('/');
    const r = stream({
      warehouse: 'duckdb',
      rate: DUCKDB_RATE,
      total: SAT_ROWS,
      partitions: 6,
      env: {},
      ...(memoryLimit && memoryLimit !== 'duckdb' ? { memoryLimit } : { memoryLimit: `${Math.floor((totalmem() * 0.8) / 2 ** 20)}MiB` }),
      ...(threads && threads !== 'duckdb' ? { threads: Number(threads) } : { threads: cpus().length }),
    });
    out(`| ${memoryLimit} | ${threads} | ${fmt(r.landed)} | ${fmt(r.rowsPerSecond)} | ${fmt(r.p99)} | ${fmt(r.baseRssMiB)} | ${fmt(r.peakRssMiB)} |`);
  }
  out();
}
if (ONLY.has('saturation')) {
  out(`## The whole sink at saturation (in-memory bus, 6 partitions, default settings): ${fmt(SAT_ROWS)} scores produced at once`);
  out();
  out('| warehouse | rows/s (produce → last row committed) | peak RSS MiB (the bus holds the backlog too) |');
  out('|---|---:|---:|');
  for (const w of warehouses) {
    const r = stream({ warehouse: w.warehouse, rate: 0, total: SAT_ROWS, partitions: 6, env: {} });
    out(`| ${w.name} | ${fmt(r.rowsPerSecond)}${r.landed < SAT_ROWS ? ` (only ${r.landed} landed)` : ''} | ${fmt(r.peakRssMiB)} |`);
  }
  out();
}
if (ONLY.has('delay')) {
  out(`## Score → committed row: ${fmt(RATE)} scores/s for ${SECONDS} s, 6 partitions (bus append → warehouse commit)`);
  out();
  out('| warehouse | SINK_FLUSH_MS | landed | p50 ms | p99 ms | max ms | RSS at start MiB | peak RSS MiB |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of warehouses) {
    for (const flushMs of FLUSH_MS) {
      const r = stream({ warehouse: w.warehouse, rate: RATE, total: RATE * SECONDS, partitions: 6, env: { SINK_FLUSH_MS: String(flushMs) } });
      out(`| ${w.name} | ${flushMs} | ${fmt(r.landed)}/${fmt(r.total)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.baseRssMiB)} | ${fmt(r.peakRssMiB)} |`);
    }
  }
  out();
}
out(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
rmSync(dir, { recursive: true, force: true });
const results = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'sink.md'), `${report.join('\n')}\n`);
process.stdout.write('→ bench-results/sink.md\n');
process.exit(0);
