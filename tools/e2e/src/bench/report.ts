// The pipeline benchmark's report: bench-results/pipeline.md with two SVG plots, from
// bench-results/pipeline.json and the raw Kafka ceiling that @ehr/kafka-local's bench
// wrote (bench-results/kafka-ceiling.json) in the same `npm run bench`: the pipeline as a
// fraction of what Kafka does on this machine.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcSummary } from '../procstat.js';
import type { LatencySummary } from './stats.js';
import { latencyChart, rateChart } from './svg.js';

export interface PhaseResult {
  events: number;
  /** Events/s offered (null: as fast as the producer took them). */
  rateOffered: number | null;
  postSeconds: number;
  /** Events ÷ (last warehouse row − first publication). */
  throughputPerSec: number;
  seconds: number;
  /** Publication (Kafka timestamp of the raw event) → warehouse row (ingested_at). */
  latencyMs: LatencySummary;
  /** Publication → scored_at (producer, feature, scoring). */
  toScoreMs: LatencySummary;
  /** Publication → the Kafka timestamp of the event's vector (producer, feature service). */
  toVectorMs: LatencySummary;
  /** The vector's Kafka timestamp → scored_at (scoring service). */
  vectorToScoreMs: LatencySummary;
  /** scored_at → ingested_at (the sink, including its flush interval). */
  scoreToRowMs: LatencySummary;
  publishedPerSecond: number[];
  landedPerSecond: number[];
  processes: ProcSummary[];
}

export interface RunAccounting {
  published: number;
  scored: number;
  deadLettered: number;
  duplicates: number;
  problems: number;
}

/** The saturation phase again, on more partitions with replicas sharing each group. */
export interface ScaleOutResult {
  partitions: number;
  /** Processes per stage. */
  replicas: Record<string, number>;
  accounting: RunAccounting;
  /** Raw events each feature instance consumed, scores each scoring instance emitted. */
  consumedBy: Record<string, number>;
  saturation: PhaseResult;
}

export interface PipelineBenchResult {
  benchmark: 'pipeline';
  at: string;
  machine: { cpus: number; cpuModel: string; memoryMb: number; node: string; loadAverage1m: { before: number; after: number } };
  kafka: { brokers: string; external: boolean; partitions: number };
  config: { events: number; latencySeconds: number; sinkFlushMs: number; compression?: string; model: string; warehouse: string };
  accounting: RunAccounting;
  readiness: Record<string, number>;
  /** Bytes of the run's topics on the broker's disk (own broker only). */
  kafkaBytes: Record<string, number> | null;
  saturation: PhaseResult;
  latency: PhaseResult;
  /** Absent when BENCH_SCALE=0. */
  scaleOut?: ScaleOutResult;
}

interface Ceiling {
  at: string;
  produce: { messagesPerSec: number; mbPerSec: number };
  consume: { messagesPerSec: number; mbPerSec: number };
  config: { messageBytes: number; partitions: number };
  kafka: { brokers: string; external: boolean };
  machine?: { loadAverage1m?: { before: number; after: number } };
}

/** BENCH_RUN_STARTED_AT (epoch ms), set by the root `npm run bench` for every bench of one run. */
export const runStartedAtFromEnv = (env: NodeJS.ProcessEnv = process.env): number | undefined => {
  const n = Number(env.BENCH_RUN_STARTED_AT);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const mib = (b: number) => fmt(b / 2 ** 20);

export function renderReport(result: PipelineBenchResult, ceiling: Ceiling | null, ceilingNote: string): { markdown: string; summary: string } {
  const s = result.saturation;
  const l = result.latency;
  const totalBytes = result.kafkaBytes ? Object.values(result.kafkaBytes).reduce((a, b) => a + b, 0) : null;
  const eventsInRun = s.events + l.events;
  const bytesPerEvent = totalBytes !== null && eventsInRun > 0 ? totalBytes / eventsInRun : null;
  const pipelineMBps = bytesPerEvent !== null ? (s.throughputPerSec * bytesPerEvent) / 1e6 : null;
  const lines: string[] = [];
  lines.push('# Pipeline benchmark', '');
  lines.push(
    `${result.at} · ${result.machine.cpus} × ${result.machine.cpuModel}, ${fmt(result.machine.memoryMb)} MB, Node ${result.machine.node} · ` +
      `load average ${fmt(result.machine.loadAverage1m.before, 1)} → ${fmt(result.machine.loadAverage1m.after, 1)} (other work on the machine lowers every figure)`,
    '',
  );
  lines.push(
    `Producer → feature → scoring → sink (${result.config.warehouse === 'snowflake' ? 'Snowflake: the Snowflake-protocol test server in the bench\'s own process, through the real snowflake-sdk' : 'DuckDB'}) as four processes on ${result.kafka.external ? 'the broker of KAFKA_BROKERS' : 'a local Kafka broker started for the bench'} ` +
      `(${result.kafka.partitions} partitions), the model \`${result.config.model}\`, \`SINK_FLUSH_MS=${result.config.sinkFlushMs}\`. ` +
      `A synthetic cohort through the producer's \`POST /events\`. Every event accounted for afterwards: ${fmt(result.accounting.published)} published = ` +
      `${fmt(result.accounting.scored)} scored + ${fmt(result.accounting.deadLettered)} dead-lettered + ${fmt(result.accounting.duplicates)} duplicates, ${result.accounting.problems} problems.`,
    '',
  );
  lines.push('## Throughput', '');
  lines.push('| what | figure |', '| --- | ---: |');
  lines.push(`| sustained through the whole pipeline (${fmt(s.events)} events offered at once; events ÷ first publication → last warehouse row) | **${fmt(s.throughputPerSec)} events/s** |`);
  lines.push(`| producer intake (\`POST /events\`, batches of 500) | ${fmt(s.events / s.postSeconds)} events/s |`);
  if (ceiling) {
    lines.push(`| raw Kafka ceiling: produce (${ceiling.config.messageBytes} B messages, kafkajs, acks=all, idempotent) | ${fmt(ceiling.produce.messagesPerSec)} msg/s, ${fmt(ceiling.produce.mbPerSec, 1)} MB/s |`);
    lines.push(`| raw Kafka ceiling: consume | ${fmt(ceiling.consume.messagesPerSec)} msg/s, ${fmt(ceiling.consume.mbPerSec, 1)} MB/s |`);
    lines.push(`| pipeline events/s as a fraction of raw produce messages/s | **${fmt((100 * s.throughputPerSec) / ceiling.produce.messagesPerSec, 1)} %** |`);
    if (pipelineMBps !== null) lines.push(`| Kafka bytes the pipeline writes at that rate (${fmt(bytesPerEvent! / 1000, 1)} kB per event) as a fraction of raw produce MB/s | **${fmt((100 * pipelineMBps) / ceiling.produce.mbPerSec, 1)} %** (${fmt(pipelineMBps, 1)} MB/s) |`);
  } else {
    lines.push('| raw Kafka ceiling | not measured in this run (run `npm run bench` from the root) |');
  }
  lines.push('', ceilingNote, '');
  if (result.kafkaBytes) {
    lines.push('Bytes each event becomes on Kafka (topic logs on the broker\'s disk, both phases):', '');
    lines.push('| topic | bytes per event |', '| --- | ---: |');
    for (const [topic, bytes] of Object.entries(result.kafkaBytes).sort(([x], [y]) => x.localeCompare(y))) lines.push(`| ${topic} | ${fmt(bytes / eventsInRun)} |`);
    lines.push('');
  }
  lines.push('![events per second](pipeline-throughput.svg)', '');
  if (result.scaleOut) lines.push(...scaleOutSection(result, result.scaleOut), '');
  lines.push(`## Delay from event to warehouse row (${fmt(l.events)} events at ${fmt(l.rateOffered ?? 0)} events/s for ${fmt(l.seconds, 0)} s)`, '');
  lines.push('HDR histogram (hdr-histogram-js, 1 ms resolution). From the raw event\'s Kafka timestamp (its publication) to the `ingested_at` of its row; split at `scored_at`.', '');
  lines.push('| stage | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  const row = (name: string, h: LatencySummary) => lines.push(`| ${name} | ${fmt(h.p50)} | ${fmt(h.p95)} | ${fmt(h.p99)} | ${fmt(h.p999)} | ${fmt(h.max)} |`);
  row('**event → warehouse row**', l.latencyMs);
  row('event → scored (producer, feature, scoring)', l.toScoreMs);
  row('↳ event → vector published (feature service)', l.toVectorMs);
  row('↳ vector published → scored (scoring service)', l.vectorToScoreMs);
  row('scored → row (sink: buffer up to SINK_FLUSH_MS, one transaction)', l.scoreToRowMs);
  row('event → row, at saturation (queueing included)', s.latencyMs);
  lines.push('', '![latency percentiles](pipeline-latency.svg)', '');
  lines.push('## CPU and memory per process', '');
  lines.push('From `/proc/<pid>/stat` and `/proc/<pid>/status`, sampled every 250 ms during each phase. CPU in cores busy on average (1.0 = one core all the time).', '');
  lines.push('| process | saturation: CPU cores | saturation: RSS mean / max MiB | latency phase: CPU cores | latency phase: RSS mean / max MiB |', '| --- | ---: | ---: | ---: | ---: |');
  const names = [...new Set([...s.processes.map((p) => p.name), ...l.processes.map((p) => p.name)])];
  for (const name of names) {
    const a = s.processes.find((p) => p.name === name);
    const b = l.processes.find((p) => p.name === name);
    lines.push(
      `| ${name} | ${a ? fmt(a.cpuCores, 2) : '—'} | ${a ? `${mib(a.rssMeanBytes)} / ${mib(a.rssMaxBytes)}` : '—'} | ${b ? fmt(b.cpuCores, 2) : '—'} | ${b ? `${mib(b.rssMeanBytes)} / ${mib(b.rssMaxBytes)}` : '—'} |`,
    );
  }
  lines.push('', `Reproduce: \`npm run bench\` (all benches, one at a time) or, after a build, \`npm run bench -w tools/e2e\`. Knobs: \`BENCH_EVENTS\` (${result.config.events}), \`BENCH_SCALE\` (0: no scale-out run), \`BENCH_SCALE_PARTITIONS\` (${result.scaleOut?.partitions ?? 6}), \`BENCH_PROFILE\` (1: CPU profiles of the single-instance run in \`bench-results/profiles/\`), \`BENCH_RATE\` (default 2,000, or half the measured saturation rate below 2,200), \`BENCH_SECONDS\` (${result.config.latencySeconds}), \`BENCH_PARTITIONS\` (${result.kafka.partitions}), \`BENCH_SINK_FLUSH_MS\` (default the sink's own; ${result.config.sinkFlushMs} in this run), \`BENCH_ENV\` (NAME=value,… for every service), \`BENCH_NODE_FLAGS\` (service:flags;… for one service's processes), \`BENCH_WAREHOUSE\` (duckdb, the default, or snowflake), \`KAFKA_BROKERS\`.`, '');
  const scale = result.scaleOut ? `; scaled out (${scaleOutLabel(result.scaleOut)}): ${fmt(result.scaleOut.saturation.throughputPerSec)} events/s (${change(s.throughputPerSec, result.scaleOut.saturation.throughputPerSec)})` : '';
  const summary =
    `pipeline: ${fmt(s.throughputPerSec)} events/s sustained${ceiling ? ` (${fmt((100 * s.throughputPerSec) / ceiling.produce.messagesPerSec, 1)} % of the raw Kafka produce ceiling, ${fmt(ceiling.produce.messagesPerSec)} msg/s)` : ''}; ` +
    `event → warehouse row at ${fmt(l.rateOffered ?? 0)}/s: p50 ${fmt(l.latencyMs.p50)} ms, p95 ${fmt(l.latencyMs.p95)} ms, p99 ${fmt(l.latencyMs.p99)} ms${scale}`;
  return { markdown: `${lines.join('\n')}\n`, summary };
}

const accountingLine = (a: RunAccounting) =>
  `${fmt(a.published)} published = ${fmt(a.scored)} scored + ${fmt(a.deadLettered)} dead-lettered + ${fmt(a.duplicates)} duplicates, ${a.problems} problems`;

const scaleOutLabel = (o: ScaleOutResult) =>
  `${o.partitions} partitions, ${Object.entries(o.replicas)
    .filter(([, n]) => n > 1)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ')}`;

/** "+42 %: rose" or "−3 %: did not rise"; within ±5 % is the noise of a shared machine. */
export function change(before: number, after: number): string {
  const pct = (100 * (after - before)) / Math.max(1e-9, before);
  const sign = pct >= 0 ? '+' : '−';
  const verdict = pct > 5 ? 'rose' : pct < -5 ? 'fell' : 'about the same (within 5 %)';
  return `${sign}${fmt(Math.abs(pct), 0)} %: ${verdict}`;
}

function scaleOutSection(result: PipelineBenchResult, o: ScaleOutResult): string[] {
  const s = result.saturation;
  const lines = ['## Scale-out', ''];
  lines.push(
    `The saturation phase again (${fmt(o.saturation.events)} events of another cohort, on topics and consumer groups of its own) with ${scaleOutLabel(o)}: ` +
      'each pair shares its service\'s consumer group, so the group splits the partitions between them; the feature service restores a moved partition\'s patients from its changelog.',
    '',
  );
  lines.push('| run | partitions | processes | sustained events/s | accounting |', '| --- | ---: | --- | ---: | --- |');
  lines.push(`| single instance | ${result.kafka.partitions} | one of each stage | ${fmt(s.throughputPerSec)} | ${accountingLine(result.accounting)} |`);
  const processes = Object.entries(o.replicas).map(([name, n]) => `${n} × ${name}`).join(', ');
  lines.push(`| scaled out | ${o.partitions} | ${processes} | **${fmt(o.saturation.throughputPerSec)}** | ${accountingLine(o.accounting)} |`);
  lines.push('', `Throughput scaled out against single instance: **${change(s.throughputPerSec, o.saturation.throughputPerSec)}**, on ${result.machine.cpus} CPUs (replicas only add throughput while cores are idle).`, '');
  lines.push('| instance | consumed (feature: raw events; scoring: scores) | CPU cores | RSS mean / max MiB |', '| --- | ---: | ---: | ---: |');
  for (const [name, count] of Object.entries(o.consumedBy)) {
    const p = o.saturation.processes.find((x) => x.name === name);
    lines.push(`| ${name} | ${fmt(count)} | ${p ? fmt(p.cpuCores, 2) : '—'} | ${p ? `${mib(p.rssMeanBytes)} / ${mib(p.rssMaxBytes)}` : '—'} |`);
  }
  return lines;
}

/** Reads pipeline.json (and kafka-ceiling.json if any) from `dir`; writes pipeline.md and the plots there. */
export function writePipelineReport(dir: string, options: { runStartedAt?: number } = {}): { markdown: string; summary: string } {
  const result = JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')) as PipelineBenchResult;
  const ceilingFile = join(dir, 'kafka-ceiling.json');
  let ceiling: Ceiling | null = null;
  let note: string;
  if (existsSync(ceilingFile)) {
    ceiling = JSON.parse(readFileSync(ceilingFile, 'utf8')) as Ceiling;
    // `npm run bench` sets BENCH_RUN_STARTED_AT for every bench it runs.
    const sameRun = options.runStartedAt !== undefined && Date.parse(ceiling.at) >= options.runStartedAt;
    note =
      `The ceiling is \`bench-results/kafka-ceiling.json\` (@ehr/kafka-local's bench, ${ceiling.at}, on ${ceiling.kafka.external ? ceiling.kafka.brokers : 'a fresh local broker'}, ` +
      `load average ${fmt(ceiling.machine?.loadAverage1m?.before ?? Number.NaN, 1)})` +
      (sameRun ? ', measured in the same `npm run bench`.' : ', from an earlier run, not this one: `npm run bench` from the root measures both in one run.');
  } else {
    note = 'No raw Kafka ceiling in bench-results/ yet: `npm run bench` from the root measures it in the same run.';
  }
  const { markdown, summary } = renderReport(result, ceiling, note);
  writeFileSync(join(dir, 'pipeline.md'), markdown);
  writeFileSync(
    join(dir, 'pipeline-latency.svg'),
    latencyChart('Delay from event to warehouse row', [
      { name: `at ${fmt(result.latency.rateOffered ?? 0)} events/s`, curve: result.latency.latencyMs.curve, color: '#1f77b4' },
      { name: 'event → scored', curve: result.latency.toScoreMs.curve, color: '#2ca02c' },
      { name: 'at saturation', curve: result.saturation.latencyMs.curve, color: '#d62728' },
    ]),
  );
  writeFileSync(
    join(dir, 'pipeline-throughput.svg'),
    rateChart('Events per second: published and landed in the warehouse', [
      { name: 'saturation: published', perSecond: result.saturation.publishedPerSecond, color: '#ff9896' },
      { name: 'saturation: landed', perSecond: result.saturation.landedPerSecond, color: '#d62728' },
      { name: 'latency phase: published', perSecond: result.latency.publishedPerSecond, color: '#aec7e8' },
      { name: 'latency phase: landed', perSecond: result.latency.landedPerSecond, color: '#1f77b4' },
    ]),
  );
  return { markdown: join(dir, 'pipeline.md'), summary };
}
