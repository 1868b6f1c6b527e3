// npm run bench:hot -w services/feature: the feature service's own cost per event, in
// process, with no broker: the pipeline bench's input (a 48 h cohort cut to 30,000 events,
// ≈ 120 patients, 3 partitions) handed to the processor in batches, the changelog on and
// checkpointed every 1,500 events per partition (what a 2 s interval gives at ≈ 2,300
// events/s over 3 partitions, the pipeline bench's rate), onto a bus that only counts what
// is produced. Reports CPU ms per 1,000 events (user + system), GC ms (PerformanceObserver),
// heap bytes allocated per event (v8.GCProfiler: freed by each GC plus the growth), bytes
// produced per event by topic, and events/s. Median of RUNS runs after a warm-up run.
// Writes bench-results/feature-hot-path.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import type { OutgoingRecord } from '@ehr/bus';
import { cohortStream } from '@ehr/cohort';
import { processorHarness } from '../test/fixtures/recording-bus.js';

const EVENTS = Number(process.env.HOT_EVENTS ?? 30_000);
const RUNS = Number(process.env.HOT_RUNS ?? 5);
const BATCH = Number(process.env.HOT_BATCH ?? 100);
const CHECKPOINT_EVERY = Number(process.env.HOT_CHECKPOINT_EVERY ?? 1_500);
const out = (line: string) => process.stdout.write(`${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;

// As tools/e2e's pipeline bench builds its input: ≈ 6 events per patient-hour over 48 h.
const patients = Math.max(20, Math.ceil((EVENTS / (6 * 48)) * 1.15));
const records: OutgoingRecord[] = [];
for (const { event } of cohortStream({ seed: 1, patients, hours: 48 })) {
  if (records.length >= EVENTS) break;
  records.push({ key: event.patientId, value: Buffer.from(JSON.stringify(event)) });
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

interface Run {
  cpuMsPer1000: number;
  gcMsPer1000: number;
  allocatedBytesPerEvent: number;
  eventsPerSecond: number;
  bytesPerEvent: Record<string, number>;
  recordsPerEvent: Record<string, number>;
}

async function run(): Promise<Run> {
  const harness = await processorHarness({ checkpointEvery: CHECKPOINT_EVERY, keep: false });
  gc?.();
  const profiler = new GCProfiler();
  const usedBefore = getHeapStatistics().used_heap_size;
  gcMs = 0;
  profiler.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await harness.feed(records, BATCH);
  await harness.processor.checkpointAll();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const usedAfter = getHeapStatistics().used_heap_size;
  const stats = profiler.stop();
  await new Promise((r) => setImmediate(r)); // the last GC entries reach the observer
  let freed = 0;
  for (const s of stats?.statistics ?? []) freed += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
  const n = records.length;
  const per = (x: number) => Number((x / n).toFixed(3));
  const bytesPerEvent: Record<string, number> = {};
  const recordsPerEvent: Record<string, number> = {};
  for (const [topic, t] of harness.bus.totals) {
    bytesPerEvent[topic] = Number((t.bytes / n).toFixed(1));
    recordsPerEvent[topic] = per(t.records);
  }
  return {
    cpuMsPer1000: Number((((cpu.user + cpu.system) / 1000 / n) * 1000).toFixed(1)),
    gcMsPer1000: Number(((gcMs / n) * 1000).toFixed(1)),
    allocatedBytesPerEvent: Math.round((freed + usedAfter - usedBefore) / n),
    eventsPerSecond: Math.round(n / (wall / 1000)),
    bytesPerEvent,
    recordsPerEvent,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await run(); // warm-up: JIT, caches
const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await run());
const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const result = {
  node: process.version,
  load,
  events: records.length,
  patients,
  batch: BATCH,
  checkpointEvery: CHECKPOINT_EVERY,
  cpuMsPer1000: median(runs.map((r) => r.cpuMsPer1000)),
  gcMsPer1000: median(runs.map((r) => r.gcMsPer1000)),
  allocatedBytesPerEvent: median(runs.map((r) => r.allocatedBytesPerEvent)),
  eventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
  bytesPerEvent: runs[0]!.bytesPerEvent,
  recordsPerEvent: runs[0]!.recordsPerEvent,
  runs,
};
out(
  `feature hot path: ${records.length} events (${patients} patients, batches of ${BATCH}, checkpoint every ${CHECKPOINT_EVERY}/partition), median of ${RUNS}: ` +
    `${result.cpuMsPer1000} CPU ms / 1,000 events, GC ${result.gcMsPer1000} ms / 1,000, ${result.allocatedBytesPerEvent} heap bytes allocated / event, ${result.eventsPerSecond} events/s (load ${load})`,
);
out(`  produced per event: ${JSON.stringify(result.bytesPerEvent)} bytes; ${JSON.stringify(result.recordsPerEvent)} records`);
out(`  runs (CPU ms / 1,000): ${runs.map((r) => r.cpuMsPer1000).join(', ')}`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/feature-hot-path.json', JSON.stringify(result, null, 2) + '\n');
