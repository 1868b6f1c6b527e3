// One bench run in a process of its own, so that its memory is its own: the whole sink
// service on the in-memory bus, scores offered at a rate (or all at once), end-to-end delay
// from bus append to committed row, and the process's peak resident memory. Prints one
// JSON line. Run by bench.ts; by hand: `tsx bench/stream.ts '<json options>'`.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

import './allocator.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createSinkService, DuckDbWarehouse, loadConfig, type LandedEvent } from '../src/index.js';
import { decodeScoreAsBefore, frameSource, wardScores } from './frames.js';
import { startBenchSnowflake } from './snowflake.js';

export interface StreamOptions {
  warehouse: 'duckdb' | 'snowflake';
  /** Scores per second offered; 0: all at once (saturation). */
  rate: number;
  /** Scores in all. */
  total: number;
  partitions: number;
  env: Record<string, string>;
  /** DuckDB settings (DuckDB only; default: the sink's). */
  memoryLimit?: string;
  threads?: number;
  /** 'record': decode as before issue 18 (the features record, then JSON.stringify), for A/B. */
  decode?: 'record';
}

export interface StreamResult {
  landed: number;
  total: number;
  seconds: number;
  rowsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  peakRssMiB: number;
  /** Process CPU (all threads, the generator's included) per 1,000 rows landed. */
  cpuMsPer1k: number;
  baseRssMiB: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as StreamOptions;
const logger = createLogger({ service: 'sink-bench', level: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'sink-bench-'));

/**
 * Messages made cheaply: about 500 real score frames (the whole feature catalogue, as scoring
 * writes them) as templates, each copy with a fresh score id, so that the generator does not
 * compete with the sink for the CPU (or hold every message).
 */
const frames = frameSource(wardScores(20, 24));
const messageOf = (n: number) => ({ key: frames.key(n), value: frames.frame(n) });

const snowflake = options.warehouse === 'snowflake' ? await startBenchSnowflake(join(dir, 'sf.duckdb')) : null;
const env = snowflake?.env ?? { DUCKDB_PATH: join(dir, 'w.duckdb') };
const config = loadConfig({ ...env, KAFKA_TOPIC_PARTITIONS: String(options.partitions), ...options.env });
const broker = new MemoryBroker({ defaultPartitions: options.partitions, maxBacklogPerPartition: 1_000_000, maxBacklogBytesPerPartition: Infinity });
const delays: number[] = [];
let landed = 0;
const onLanded = (e: LandedEvent) => {
  if (e.topic !== TOPICS.scores) return;
  for (const t of e.timestamps) delays.push(e.committedAt - t);
  landed += e.records;
};
const warehouse =
  options.warehouse === 'duckdb'
    ? new DuckDbWarehouse({
        path: env.DUCKDB_PATH!,
        logger,
        ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
        ...(options.threads ? { threads: options.threads } : {}),
      })
    : undefined;
const service = createSinkService({
  config,
  logger,
  bus: new MemoryBus({ broker }),
  onLanded,
  ...(warehouse ? { warehouse } : {}),
  ...(options.decode === 'record' ? { decodeScore: decodeScoreAsBefore } : {}),
});
await service.start();

let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sample, 50);
const baseRss = process.memoryUsage().rss;
const producer = new MemoryBus({ broker });
const started = performance.now();
const cpuAtStart = process.cpuUsage();
if (options.rate === 0) {
  for (let sent = 0; sent < options.total; sent += 1000) {
    await producer.produce(TOPICS.scores, Array.from({ length: Math.min(1000, options.total - sent) }, (_, k) => messageOf(sent + k)));
  }
} else {
  const tick = 20;
  const perTick = Math.max(1, Math.round((options.rate * tick) / 1000));
  for (let sent = 0; sent < options.total; ) {
    const n = Math.min(perTick, options.total - sent);
    await producer.produce(TOPICS.scores, Array.from({ length: n }, (_, k) => messageOf(sent + k)));
    sent += n;
    const wait = started + (sent / options.rate) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
const deadline = Date.now() + 300_000;
while (landed < options.total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
const seconds = (performance.now() - started) / 1000;
// Every bench score is valid: one dead-lettered instead of landed means the run measured something else.
const deadLettered = /^ehr_sink_dead_letters_total\{[^}]*\} [1-9]/m.exec((await service.app.inject({ method: 'GET', url: '/metrics' })).body);
if (deadLettered) throw new Error(`the bench's scores were dead-lettered, not landed (${deadLettered[0]}): the run measures nothing`);
const cpu = process.cpuUsage(cpuAtStart);
sample();
clearInterval(sampler);
await service.stop();
await service.app.close();
await snowflake?.stop();
rmSync(dir, { recursive: true, force: true });
delays.sort((a, b) => a - b);
const at = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN;
const result: StreamResult = {
  landed,
  total: options.total,
  seconds,
  rowsPerSecond: landed / seconds,
  p50: at(50),
  p99: at(99),
  max: delays[delays.length - 1] ?? NaN,
  peakRssMiB: peakRss / 2 ** 20,
  cpuMsPer1k: ((cpu.user + cpu.system) / 1000 / landed) * 1000,
  baseRssMiB: baseRss / 2 ** 20,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
