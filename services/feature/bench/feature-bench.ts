// npm run bench -w services/feature: featurization events/s in-process (engine alone, and
// the service's hot path on the in-memory bus), memory per 10,000 active patients, and,
// when KAFKA_BROKERS is set, the service's throughput on a real broker.
// Writes bench-results/feature.json beside the figures it prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cohortStream } from '@ehr/cohort';
import { createBus, KafkaBus, MemoryBus, type Bus } from '@ehr/bus';
import { DEFAULT_ENGINE_OPTIONS, featurize, processEvent, stateBytes, TOPICS, type PatientState, type RawEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createFeatureService, loadConfig } from '../src/index.js';
import { cohortFixture, waitFor } from '../test/fixtures/stream.js';

const logger = createLogger({ service: 'feature-bench', level: 'error' });
const out = (line: string) => process.stdout.write(`${line}\n`);
const results: Record<string, unknown> = { node: process.version, cpus: (await import('node:os')).cpus().length };
const gc = (globalThis as { gc?: () => void }).gc;

// 1. The engine in-process: clean → dedup → reduce → featurize, over a synthetic cohort.
{
  const events: RawEvent[] = [...cohortStream({ seed: 1, patients: 400, hours: 72, artefactRate: 0.01 })].map((e) => e.event);
  const states = new Map<string, PatientState>();
  let vectors = 0;
  const t0 = performance.now();
  for (const e of events) {
    const o = processEvent(states, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind === 'featurized' && o.vector) vectors++;
  }
  const s = (performance.now() - t0) / 1000;
  const sample = [...states.values()].filter((x) => Number.isNaN(x.dischargedAt)).slice(0, 200);
  const t1 = performance.now();
  let n = 0;
  for (let r = 0; r < 20; r++) {
    for (const st of sample) {
      featurize(st, st.maxTime, 'vital_sign');
      n++;
    }
  }
  const fs = (performance.now() - t1) / 1000;
  results.engine = { events: events.length, vectors, eventsPerSecond: Math.round(events.length / s), featurizePerSecond: Math.round(n / fs) };
  out(`engine (in-process): ${events.length} events in ${s.toFixed(2)} s = ${Math.round(events.length / s)} events/s (${vectors} vectors); featurize alone ${Math.round(n / fs)} vectors/s`);
}

// 2. Memory per 10,000 active patients: every patient with ~24 h of charted history.
{
  gc?.();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const states = new Map<string, PatientState>();
  // Admitted over the first 2 h of a 26 h window, no discharges within it: 10,000 patients with a full day each.
  for (const { event } of cohortStream({ seed: 2, patients: 10_000, hours: 4, artefactRate: 0 })) processEvent(states, event, DEFAULT_ENGINE_OPTIONS);
  const ten = new Map<string, PatientState>();
  for (const [id, st] of states) if (ten.size < 10_000 && Number.isNaN(st.dischargedAt)) ten.set(id, st);
  // Stretch every patient to 24 h of hourly vitals (the densest steady state the windows keep).
  for (const st of ten.values()) {
    const start = st.maxTime;
    for (let h = 1; h <= 24; h++) {
      const t = new Date(start + h * 3_600_000).toISOString();
      for (const [kind, value, unit] of [['heart_rate', 80, '/min'], ['respiratory_rate', 16, '/min'], ['spo2', 96, '%'], ['systolic_bp', 120, 'mm[Hg]'], ['diastolic_bp', 70, 'mm[Hg]'], ['temperature', 37, 'Cel'], ['supplemental_o2', 0, '{bool}']] as const) {
        processEvent(ten, { schema: 'vital_sign', schemaVersion: 1, eventId: `${st.patientId}-${kind}-${h}`, patientId: st.patientId, encounterId: null, occurredAt: t, producedAt: t, source: 'synthetic', payload: { kind, value: value + (h % 5), unit } }, DEFAULT_ENGINE_OPTIONS);
      }
      if (h % 4 === 0) processEvent(ten, { schema: 'vital_sign', schemaVersion: 1, eventId: `${st.patientId}-gcs-${h}`, patientId: st.patientId, encounterId: null, occurredAt: t, producedAt: t, source: 'synthetic', payload: { kind: 'gcs', value: 15, unit: '{score}' } }, DEFAULT_ENGINE_OPTIONS);
    }
  }
  states.clear();
  gc?.();
  // Typed arrays live outside the JS heap: count both.
  const heap = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before;
  let estimated = 0;
  let observations = 0;
  for (const st of ten.values()) {
    estimated += stateBytes(st);
    for (const s of st.series) observations += s?.length ?? 0;
  }
  results.memory = { patients: ten.size, heapBytes: gc ? heap : null, estimatedBytes: estimated, observationsPerPatient: Math.round(observations / ten.size) };
  out(`memory: ${ten.size} active patients, ${Math.round(observations / ten.size)} observations each: heap ${gc ? (heap / 2 ** 20).toFixed(0) + ' MiB' : 'n/a (run with --expose-gc)'}, state estimate ${(estimated / 2 ** 20).toFixed(0)} MiB`);
}

// 3. The service: decode → engine → vectors and dead letters produced, offsets committed.
async function serviceRun(label: string, bus: Bus, client: Bus, env: Record<string, string>) {
  const fixture = cohortFixture({ seed: 3, patients: 300, hours: 48, artefactRate: 0.01 });
  const config = loadConfig({ KAFKA_TOPIC_PARTITIONS: '6', ...env });
  const service = createFeatureService({ config, logger, bus });
  await service.start();
  await client.ensureTopics([{ topic: TOPICS.events, partitions: 6 }]);
  const t0 = performance.now();
  await client.produce(TOPICS.events, fixture.records);
  const produced = (performance.now() - t0) / 1000;
  const metric = async (name: string) => {
    const body = (await service.app.inject('/metrics')).body;
    return body.split('\n').filter((l) => l.startsWith(name)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };
  await waitFor('all events', async () => (await metric('ehr_feature_events_total')) >= fixture.records.length, 600_000);
  const s = (performance.now() - t0) / 1000;
  const vectors = await metric('ehr_feature_vectors_total');
  await service.stop();
  await service.app.close();
  results[label] = { events: fixture.records.length, vectors, seconds: Number(s.toFixed(2)), produceSeconds: Number(produced.toFixed(2)), eventsPerSecond: Math.round(fixture.records.length / s) };
  out(`${label}: ${fixture.records.length} events in ${s.toFixed(2)} s = ${Math.round(fixture.records.length / s)} events/s end to end (${vectors} vectors; producing took ${produced.toFixed(2)} s)`);
}

{
  const bus = new MemoryBus({ defaultPartitions: 6 });
  await serviceRun('service (in-memory bus)', bus, bus, {});
}
const brokers = process.env.KAFKA_BROKERS;
if (brokers) {
  for (const changelog of ['on', 'off'] as const) {
    const prefix = `feature-bench-${Date.now()}-${changelog}.`;
    const env = { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, FEATURE_STATE_CHANGELOG: changelog, FEATURE_GROUP_ID: `feature-bench-${changelog}` };
    const client = new KafkaBus({ brokers: brokers.split(','), clientId: 'feature-bench', logger, topicPrefix: prefix });
    await client.connect();
    await serviceRun(`service (Kafka, changelog ${changelog})`, createBus(loadConfig(env), { clientId: 'feature-service', logger }), client, env);
    await client.close();
  }
} else {
  out('service (Kafka): skipped, KAFKA_BROKERS is not set (npm run kafka:up prints it)');
}

mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/feature.json', JSON.stringify(results, null, 2) + '\n');
