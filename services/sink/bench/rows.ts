// The sink's cost per row, in process: real encoded score frames (bench/frames.ts) → the
// sink's convert (decode, validate, row) → its Lander → DuckDB (appender, staging insert,
// offset log, guarded update, commit), one partition's batch at a time, as a flush does.
// Reports CPU per 1,000 rows (main thread and the whole process: DuckDB works on other
// threads too), GC time, rows/s and peak memory; one JSON line last.
//
//   node --expose-gc --import tsx [--max-semi-space-size=N …] bench/rows.ts
//
// Knobs: BENCH_ROWS (default 40000), BENCH_BATCH (rows per transaction, default 500: a
// partition's cut at ~2,000 scores/s over 6 partitions is 170-500), BENCH_PARTITIONS (6),
// BENCH_WAREHOUSE (duckdb | none: convert only), BENCH_HELD (batches converted and held before
// the oldest lands, as the sink's buffers hold a flush interval's worth; default 1), BENCH_MEMORY=1 (where the RSS is, at the end),
// BENCH_DUCKDB_MEMORY (DuckDB's memory_limit, default the sink's), BENCH_CHECKPOINT (its checkpoint_threshold), BENCH_DECODE (values: the sink's; record:
// decodeSeverityScore and JSON.stringify of its features record, the way before issue 18).
import './allocator.js';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { convert } from '../src/convert.js';
import { Lander } from '../src/lander.js';
import type { BufferedRecord } from '../src/partition-buffer.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import { decodeScoreAsBefore, frameSource, wardScores } from './frames.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 40_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const WAREHOUSE = process.env.BENCH_WAREHOUSE ?? 'duckdb';
const DECODE = process.env.BENCH_DECODE ?? 'values';
const HELD = Math.max(1, Number(process.env.BENCH_HELD ?? 1));
const MiB = 2 ** 20;

const logger = createLogger({ service: 'sink-bench', level: 'error' });
// 20 patients × 24 h: about 500 distinct scores, cycled (the engine's state is garbage before the run starts).
const source = frameSource(wardScores(20, 24));
const dir = mkdtempSync(join(tmpdir(), 'sink-rows-'));
const warehouse = WAREHOUSE === 'duckdb' ? new DuckDbWarehouse({ path: join(dir, 'w.duckdb'), logger, ...(process.env.BENCH_DUCKDB_MEMORY ? { memoryLimit: process.env.BENCH_DUCKDB_MEMORY } : {}), ...(process.env.BENCH_CHECKPOINT ? { checkpointThreshold: process.env.BENCH_CHECKPOINT } : {}) }) : null;
await warehouse?.init();
const lander = warehouse ? new Lander(warehouse, logger) : null;

/** The main thread's own CPU (utime + stime, ms) from /proc: process.cpuUsage() counts DuckDB's threads too. */
const TICK_MS = 10;
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

let gcMs = 0;
let gcCount = 0;
const gc = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcCount++;
  }
});
gc.observe({ entryTypes: ['gc'] });

const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const sample = () => {
  const m = process.memoryUsage();
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  peak.external = Math.max(peak.external, m.external);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
};
const sampler = setInterval(sample, 20);

const offsets = new Array<bigint>(PARTITIONS).fill(-1n);
(globalThis as { gc?: () => void }).gc?.();
const startRss = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuMs();
const t0 = performance.now();
let convertMs = 0;
/** Wall time of each batch's landing (a checkpoint shows as one long one). */
const landMs: number[] = [];
let landed = 0;
/** Offsets handed out so far, per partition (batches held before landing are ahead of `offsets`). */
const nextOffset = new Array<bigint>(PARTITIONS).fill(0n);
const held: { partition: number; items: ReturnType<typeof convert>['items'] }[] = [];
async function landOldest(): Promise<void> {
  const { partition, items } = held.shift()!;
  const target = { cluster: 'bench', topic: TOPICS.scores, wireTopic: TOPICS.scores, partition };
  const l0 = performance.now();
  await lander!.land(target, items, () => offsets[partition]!, async (l) => {
    offsets[partition] = l.batch.lastOffset;
    landed += l.result.scoresInserted;
  });
  landMs.push(performance.now() - l0);
}
for (let from = 0, b = 0; from < ROWS; from += BATCH, b++) {
  const partition = b % PARTITIONS;
  const records: BufferedRecord[] = [];
  const n = Math.min(BATCH, ROWS - from);
  for (let k = 0; k < n; k++) {
    const offset = nextOffset[partition]! + BigInt(k);
    records.push({ offset, timestamp: Date.now(), key: source.key(from + k), value: source.frame(from + k), at: Date.now() });
  }
  nextOffset[partition] = nextOffset[partition]! + BigInt(n);
  const c0 = performance.now();
  const converted = convert(
    { cluster: 'bench', topic: TOPICS.scores, wireTopic: TOPICS.scores, partition, maxAttempts: 3, deadLetterTopic: TOPICS.deadLetter, alertTopic: TOPICS.alerts, shadowScoreTopic: TOPICS.shadowScores, ...(DECODE === 'record' ? { decodeScore: decodeScoreAsBefore } : {}) },
    records,
  );
  convertMs += performance.now() - c0;
  if (converted.toTopic.length > 0 || converted.outOfBounds > 0 || converted.processingErrors > 0) {
    throw new Error(`bench frames did not convert: ${converted.toTopic[0]?.error ?? (converted.outOfBounds > 0 ? 'out of bounds' : `${converted.processingErrors} kept failing (dead-lettered as processing_error)`)}`);
  }
  if (lander) {
    held.push({ partition, items: converted.items });
    while (held.length >= HELD) await landOldest();
  } else {
    offsets[partition] = nextOffset[partition] - 1n;
    landed += converted.items.length;
  }
}
while (held.length > 0) await landOldest();
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const mainMs = mainThreadCpuMs() - main0;
sample();
clearInterval(sampler);
// Let the last GC entries arrive.
await new Promise((r) => setTimeout(r, 50));
gc.disconnect();

const duck = warehouse
  ? await warehouse.read(`SELECT (SELECT SUM(memory_usage_bytes) FROM duckdb_memory()) AS buffer_pool, current_setting('memory_limit') AS memory_limit`)
  : [];
const per1k = (ms: number) => (ms / landed) * 1000;
const result = {
  rows: landed,
  batch: BATCH,
  held: HELD,
  warehouse: WAREHOUSE,
  decode: DECODE,
  flags: process.execArgv.filter((a) => a.startsWith('--max')).join(' '),
  seconds: Number(seconds.toFixed(2)),
  rowsPerSecond: Math.round(landed / seconds),
  processCpuMsPer1k: Number(per1k((cpu.user + cpu.system) / 1000).toFixed(1)),
  mainThreadCpuMsPer1k: Number(per1k(mainMs).toFixed(1)),
  convertMsPer1k: Number(per1k(convertMs).toFixed(1)),
  gcMsPer1k: Number(per1k(gcMs).toFixed(1)),
  gcCount,
  landMsMedian: Math.round(landMs.sort((a, b) => a - b)[Math.floor(landMs.length / 2)] ?? 0),
  landMsLongest: landMs.slice(-3).reverse().map(Math.round),
  startRssMiB: Math.round(startRss / MiB),
  peakRssMiB: Math.round(peak.rss / MiB),
  peakHeapUsedMiB: Math.round(peak.heapUsed / MiB),
  peakHeapTotalMiB: Math.round(peak.heapTotal / MiB),
  peakExternalMiB: Math.round(peak.external / MiB),
  peakArrayBuffersMiB: Math.round(peak.arrayBuffers / MiB),
  duckdbBufferPoolMiB: duck[0]?.buffer_pool ? Math.round(Number(duck[0].buffer_pool) / MiB) : null,
  load: loadavg().map((l) => Number(l.toFixed(2))),
};
/** Where the resident memory is at the end (BENCH_MEMORY=1): the kernel's split, V8's, DuckDB's own accounting. */
if (process.env.BENCH_MEMORY === '1') {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) => Math.round(Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024);
  const m = process.memoryUsage();
  const tags = warehouse ? await warehouse.read(`SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY 2 DESC`) : [];
  process.stderr.write(
    `${JSON.stringify({
      rssMiB: kb('VmRSS'),
      rssAnonMiB: kb('RssAnon'),
      rssFileMiB: kb('RssFile'),
      heapUsedMiB: Math.round(m.heapUsed / MiB),
      heapTotalMiB: Math.round(m.heapTotal / MiB),
      externalMiB: Math.round(m.external / MiB),
      arrayBuffersMiB: Math.round(m.arrayBuffers / MiB),
      duckdb: Object.fromEntries(tags.map((t) => [t.tag, Math.round(Number(t.memory_usage_bytes) / MiB)])),
    })}\n`,
  );
}
await warehouse?.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);
