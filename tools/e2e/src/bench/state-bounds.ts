// Bounded state, measured (issue 14, item 4): the four services on real Kafka, and the
// feature service's peak resident memory while
//   - monitor: one patient sends five vitals every second for 24 hours (432,001 events,
//     one partition), and
//   - ward: 50,000 distinct patients send an admission and two vitals each (150,000 events);
// every event must come out scored (debounce off: one vector, one score each). Writes
// bench-results/state-bounds.json. `npm run bench:state -w tools/e2e` (after a build);
// BENCH_SCENARIO=monitor|ward picks one; KAFKA_BROKERS uses a running broker.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { TOPICS, type RawEvent } from '@ehr/features';
import { repoRoot, startKafkaBroker, type KafkaBroker } from '@ehr/kafka-local';
import { account, summarize } from '../accounting.js';
import { rawBus } from '../inputs.js';
import { ensureModel } from '../model.js';
import { startPipeline } from '../pipeline.js';
import { startSampler, type ProcSummary } from '../procstat.js';
import { readWarehouse } from '../warehouse.js';

const say = (line: string) => process.stdout.write(`state bench: ${line}\n`);
const MB = 1024 * 1024;
const SECOND = 1000;
const HOUR = 3_600_000;

interface Scenario {
  name: string;
  description: string;
  events: number;
  /** Yields the events in publication order. */
  generate: () => Generator<RawEvent>;
}

const VITALS: [string, string, number, number][] = [
  ['heart_rate', '/min', 82, 9],
  ['respiratory_rate', '/min', 17, 3],
  ['spo2', '%', 95, 2],
  ['systolic_bp', 'mm[Hg]', 121, 11],
  ['temperature', 'Cel', 36.9, 0.4],
];

function vital(patientId: string, eventId: string, ms: number, i: number, k: number): RawEvent {
  const [kind, unit, mean, spread] = VITALS[k]!;
  const wobble = Math.sin(i / 97 + k) * spread + ((i * 7919 + k) % 5) * spread * 0.05;
  const value = kind === 'temperature' ? Math.round((mean + wobble) * 10) / 10 : Math.round(mean + wobble);
  const t = new Date(ms).toISOString();
  return { schema: 'vital_sign', schemaVersion: 1, eventId, patientId, encounterId: `${patientId}-E`, occurredAt: t, producedAt: t, source: 'synthetic', payload: { kind, value, unit } } as RawEvent;
}

function admission(patientId: string, ms: number): RawEvent {
  const t = new Date(ms).toISOString();
  return {
    schema: 'admission', schemaVersion: 1, eventId: `${patientId}-adm`, patientId, encounterId: `${patientId}-E`, occurredAt: t, producedAt: t, source: 'synthetic',
    payload: { admissionType: 'emergency', unit: 'MED-A', department: 'medicine', gender: 'F', age: 71, spo2Scale: 1 },
  };
}

function scenarios(now: number): Scenario[] {
  // Ends ten minutes ago: every event is in the past (MAX_FUTURE_SKEW) and inside the lateness window's reach.
  const monitorStart = now - 24 * HOUR - 10 * 60 * SECOND;
  const seconds = 24 * 3600;
  const wardStart = now - 2 * HOUR;
  const patients = 50_000;
  return [
    {
      name: 'monitor',
      description: 'one patient, five vitals every second for 24 h',
      events: 1 + seconds * VITALS.length,
      *generate() {
        yield admission('PM-1', monitorStart);
        for (let s = 0; s < seconds; s++) for (let k = 0; k < VITALS.length; k++) yield vital('PM-1', `PM-1-${s}-${k}`, monitorStart + s * SECOND + k, s, k);
      },
    },
    {
      name: 'ward',
      description: '50,000 distinct patients, an admission and two vitals each',
      events: patients * 3,
      *generate() {
        for (let p = 0; p < patients; p++) {
          const id = `PW-${p}`;
          const at = wardStart + p * 100;
          yield admission(id, at);
          yield vital(id, `${id}-v1`, at + 1_000, p, 0);
          yield vital(id, `${id}-v2`, at + 2_000, p, 3);
        }
      },
    },
  ];
}

interface ScenarioResult {
  scenario: string;
  description: string;
  events: number;
  scored: number;
  deadLettered: number;
  problems: number;
  seconds: number;
  peakRssMiB: Record<string, number>;
  cpuSeconds: Record<string, number>;
}

async function runScenario(brokers: string, scenario: Scenario, modelPath: string): Promise<ScenarioResult> {
  const run = await startPipeline({
    brokers,
    runId: `bench-state-${scenario.name}-${process.pid}-${Date.now()}`,
    modelPath,
    logLevel: 'warn',
    serviceEnv: { sink: { SINK_FLUSH_MS: '1000' } },
  });
  let summary: ProcSummary[] = [];
  try {
    const sampler = startSampler(() => Object.fromEntries(run.stack.services.map((s) => [s, run.stack.pid(s)])));
    const started = Date.now();
    const bus = await rawBus(run.kafka, run.prefix);
    try {
      let batch: RawEvent[] = [];
      const flush = async () => {
        await bus.produce(TOPICS.events, batch.map((e) => ({ key: e.patientId, value: JSON.stringify(e) })));
        batch = [];
      };
      for (const e of scenario.generate()) {
        batch.push(e);
        if (batch.length >= 5_000) await flush();
      }
      await flush();
    } finally {
      await bus.close();
    }
    say(`${scenario.name}: ${scenario.events} events published in ${((Date.now() - started) / 1000).toFixed(1)} s; draining`);
    await run.drain(3_600_000, (line) => say(`${scenario.name}: ${line}`));
    const seconds = (Date.now() - started) / 1000;
    summary = sampler.stop();
    const records = [...run.observer.records];
    const prefix = run.prefix;
    await run.stop({ cleanup: false });
    const warehouse = await readWarehouse(run.duckdbPath!);
    rmSync(run.dir, { recursive: true, force: true });
    const accounting = account(records, warehouse.scores, warehouse.deadLetters, { eventsTopics: [TOPICS.events, `${prefix}${TOPICS.events}`] });
    say(`${scenario.name}: ${summarize(accounting)}`);
    return {
      scenario: scenario.name,
      description: scenario.description,
      events: scenario.events,
      scored: accounting.scored,
      deadLettered: accounting.deadLettered,
      problems: accounting.problems.length,
      seconds,
      peakRssMiB: Object.fromEntries(summary.map((s) => [s.name, Math.round(s.rssMaxBytes / MB)])),
      cpuSeconds: Object.fromEntries(summary.map((s) => [s.name, Math.round(s.cpuSeconds * 10) / 10])),
    };
  } catch (error) {
    await run.stop().catch(() => undefined);
    throw error;
  }
}

async function main(): Promise<void> {
  const outDir = join(repoRoot, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const wanted = process.env.BENCH_SCENARIO?.trim();
  const loadBefore = loadavg()[0]!;
  const external = process.env.KAFKA_BROKERS?.trim();
  let broker: KafkaBroker | null = null;
  if (!external) {
    say('starting a Kafka broker for the bench');
    broker = await startKafkaBroker({ partitions: 3 });
  }
  const results: ScenarioResult[] = [];
  try {
    const modelPath = await ensureModel(undefined, say);
    for (const scenario of scenarios(Date.now())) {
      if (wanted && wanted !== scenario.name) continue;
      const r = await runScenario(external ?? broker!.brokers, scenario, modelPath);
      results.push(r);
      say(`${r.scenario}: ${r.scored} of ${r.events} scored in ${r.seconds.toFixed(0)} s; peak RSS ${Object.entries(r.peakRssMiB).map(([s, m]) => `${s} ${m}`).join(', ')} MiB`);
    }
  } finally {
    if (broker) await broker.stop();
  }
  const file = join(outDir, 'state-bounds.json');
  const machine = { cpus: cpus().length, memoryMb: Math.round(totalmem() / MB), node: process.version, loadAverage1m: { before: loadBefore, after: loadavg()[0]! } };
  writeFileSync(file, `${JSON.stringify({ benchmark: 'state-bounds', at: new Date().toISOString(), machine, results }, null, 2)}\n`);
  say(`wrote ${file}`);
  const failed = results.filter((r) => r.problems > 0 || r.scored !== r.events || (r.peakRssMiB.feature ?? Infinity) > 300);
  if (failed.length > 0) throw new Error(`over the bound: ${failed.map((r) => `${r.scenario} (scored ${r.scored}/${r.events}, feature ${r.peakRssMiB.feature} MiB)`).join('; ')}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`state bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
