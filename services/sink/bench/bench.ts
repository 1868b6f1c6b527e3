// `npm run bench -w services/sink` (or `npm run bench` through turbo): what the sink
// sustains into DuckDB and into the Snowflake test server (real snowflake-sdk), per batch
// size, and the end-to-end delay from a score reaching the bus to its committed row.
//
// Knobs: BENCH_ROWS (rows per batch-size run, default 20000), BENCH_SIZES (default
// 100,1000,5000), BENCH_SAT_ROWS (scores in the saturation run, default 60000),
// BENCH_RATE (scores/s offered in the delay runs, default 1000), BENCH_SECONDS (length of
// a delay run, default 10).
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { createSinkService, createWarehouse, loadConfig, type LandBatch, type LandedEvent, type Warehouse } from '../src/index.js';
import { makeScore, scoreBatch, scoreMessage } from '../test/helpers.js';

const logger = createLogger({ service: 'sink-bench', level: 'error' });
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const SAT_ROWS = Number(process.env.BENCH_SAT_ROWS ?? 60_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
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
    env: async () => {
      const server: SnowflakeTestServer = await startSnowflakeTestServer({ port: 0, databasePath: join(dir, `sf-${runs++}.duckdb`) });
      return {
        env: {
          SINK_WAREHOUSE: 'snowflake',
          SNOWFLAKE_ACCOUNT: 'bench',
          SNOWFLAKE_USER: 'sink',
          SNOWFLAKE_PASSWORD: 'bench-password',
          SNOWFLAKE_DATABASE: 'EHR',
          SNOWFLAKE_WAREHOUSE: 'WH',
          SNOWFLAKE_ACCESS_URL: server.url,
        },
        stop: () => server.stop(),
      };
    },
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

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * The whole sink service on the in-memory bus: scores offered at `rate`/s for `seconds`,
 * delay = warehouse commit time − bus append time of each score.
 */
async function endToEnd(target: Target, flushMs: number, rate: number, seconds: number) {
  const { env, stop } = await target.env();
  const broker = new MemoryBroker({ defaultPartitions: 6 });
  const delays: number[] = [];
  const total = rate * seconds;
  let landed = 0;
  const onLanded = (e: LandedEvent) => {
    if (e.topic !== TOPICS.scores) return;
    for (const t of e.timestamps) delays.push(e.committedAt - t);
    landed += e.records;
  };
  const service = createSinkService({ config: loadConfig({ ...env, SINK_FLUSH_MS: String(flushMs) }), logger, bus: new MemoryBus({ broker }), onLanded });
  await service.start();
  const producer = new MemoryBus({ broker });
  const messages = Array.from({ length: total }, (_, i) => scoreMessage(makeScore(i, { run: `e2e-${runs}`, patients: 500 })));
  const tick = 50;
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  const started = performance.now();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(perTick, total - sent);
    await producer.produce(TOPICS.scores, messages.slice(sent, sent + n));
    sent += n;
    const due = started + (sent / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const deadline = Date.now() + 120_000;
  while (landed < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const elapsed = (performance.now() - started) / 1000;
  await service.stop();
  await service.app.close();
  await stop();
  delays.sort((a, b) => a - b);
  return { landed, total, rowsPerSecond: landed / elapsed, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays[delays.length - 1] ?? NaN };
}

/** Saturation: everything produced at once, time until the last row is committed. */
async function saturation(target: Target, rows: number) {
  const { env, stop } = await target.env();
  const broker = new MemoryBroker({ defaultPartitions: 6, maxBacklogPerPartition: 1_000_000 });
  let landed = 0;
  const service = createSinkService({
    config: loadConfig(env),
    logger,
    bus: new MemoryBus({ broker }),
    maxBatchRecords: 2_000,
    onLanded: (e) => void (landed += e.topic === TOPICS.scores ? e.records : 0),
  });
  await service.start();
  const messages = Array.from({ length: rows }, (_, i) => scoreMessage(makeScore(i, { run: `sat-${runs}`, patients: 500 })));
  const started = performance.now();
  await new MemoryBus({ broker }).produce(TOPICS.scores, messages);
  const deadline = Date.now() + 300_000;
  while (landed < rows && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - started) / 1000;
  await service.stop();
  await service.app.close();
  await stop();
  return { landed, rowsPerSecond: landed / seconds };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

out(`# sink bench — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
out();
out(`## Warehouse write: one partition, ${fmt(ROWS)} rows per size, one transaction per batch (insert + id anti-join + guarded offset move + commit)`);
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
out(`## Sink service at saturation (in-memory bus, 6 partitions, default flush: 10,000 records / 5 MB / 1 s): ${fmt(SAT_ROWS)} scores produced at once`);
out();
out('| warehouse | rows/s (produce → last row committed) |');
out('|---|---:|');
for (const target of targets) {
  const r = await saturation(target, SAT_ROWS);
  out(`| ${target.name} | ${fmt(r.rowsPerSecond)}${r.landed < SAT_ROWS ? ` (only ${r.landed} landed)` : ''} |`);
}
out();
out(`## End-to-end delay: bus append → committed row, ${fmt(RATE)} scores/s for ${SECONDS} s, 6 partitions`);
out();
out('| warehouse | SINK_FLUSH_MS | landed | p50 ms | p99 ms | max ms |');
out('|---|---:|---:|---:|---:|---:|');
for (const target of targets) {
  for (const flushMs of [1000, 200]) {
    const r = await endToEnd(target, flushMs, RATE, SECONDS);
    out(`| ${target.name} | ${flushMs} | ${fmt(r.landed)}/${fmt(r.total)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} |`);
  }
}
rmSync(dir, { recursive: true, force: true });
const results = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'sink.md'), `${report.join('\n')}\n`);
process.stdout.write('→ bench-results/sink.md\n');
process.exit(0);
