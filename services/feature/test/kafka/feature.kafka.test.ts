// The feature service against a real broker: events in, vectors out, every event
// accounted for; then the real process (dist/main.js) killed with SIGKILL mid-stream and
// replaced, with the vectors compared to those of an uninterrupted run.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBus, KafkaBus } from '@ehr/bus';
import { buildTrainingRows, decodeDeadLetter, decodeFeatureVector, TOPICS, type FeatureVectorEvent, type RawEvent } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createFeatureService, engineOptions, loadConfig } from '../../src/index.js';
import { asRow, byId, cohortFixture, waitFor } from '../fixtures/stream.js';

const logger = createLogger({ service: 'feature-test', level: 'error' });
const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const fixture = cohortFixture({ seed: 11, patients: 20, hours: 30, artefactRate: 0.05, poison: true });
const reference = await buildTrainingRows(fixture.events, engineOptions(loadConfig({})));
const clients: KafkaBus[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const c of clients) await c.close();
});

async function client(prefix: string): Promise<KafkaBus> {
  const bus = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId: 'feature-test-client', logger, topicPrefix: prefix });
  await bus.connect();
  await bus.ensureTopics([TOPICS.events, TOPICS.features, TOPICS.deadLetter].map((topic) => ({ topic, partitions: 3 })));
  clients.push(bus);
  return bus;
}

async function gather(bus: KafkaBus) {
  const vectors: FeatureVectorEvent[] = [];
  let letters = 0;
  await bus.subscribe({
    groupId: `check-vectors-${Date.now()}`,
    topics: [TOPICS.features],
    handler: async ({ records }) => {
      for (const r of records) {
        const v = decodeFeatureVector(r.value);
        if (!v.ok) throw new Error(v.error);
        vectors.push(v.value);
      }
    },
  });
  await bus.subscribe({
    groupId: `check-letters-${Date.now()}`,
    topics: [TOPICS.deadLetter],
    handler: async ({ records }) => {
      for (const r of records) if (decodeDeadLetter(r.value).ok) letters++;
    },
  });
  return { vectors, letters: () => letters };
}

function expectReference(vectors: FeatureVectorEvent[]) {
  const got = byId(vectors);
  expect([...got.keys()].sort()).toEqual(reference.meta.map((m) => m.vectorId).sort());
  reference.meta.forEach((m, i) => expect(asRow(got.get(m.vectorId) as FeatureVectorEvent)).toEqual(reference.matrix.data.slice(i * reference.matrix.cols, (i + 1) * reference.matrix.cols)));
  return got;
}

let uninterrupted: Map<string, unknown> | null = null;

describe('feature service on a real broker', () => {
  it('events in, vectors out: in = featurized + dead-lettered + duplicates, vectors as the batch API builds them', async () => {
    const prefix = `feature-test-${process.pid}-${Date.now()}-a.`;
    const bus = await client(prefix);
    const out = await gather(bus);
    const config = loadConfig({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', PORT: '0' });
    const service = createFeatureService({ config, logger, bus: createBus(config, { clientId: 'feature-service', logger }) });
    await service.start();
    try {
      expect((await service.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready', dependencies: { state: { state: 'up' } } });
      await bus.produce(TOPICS.events, fixture.records);
      const metric = async (name: string) => {
        const line = (await service.app.inject('/metrics')).body.split('\n').filter((l) => l.startsWith(name));
        return line.reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      };
      const n = fixture.records.length;
      await waitFor('every event', async () => (await metric('ehr_feature_events_total')) === n, 120_000);
      const [featurized, dead, dups, vectors] = [
        await metric('ehr_feature_featurized_total'),
        await metric('ehr_feature_dead_letters_total'),
        await metric('ehr_feature_duplicates_total'),
        await metric('ehr_feature_vectors_total'),
      ];
      expect(featurized + dead + dups).toBe(n);
      await waitFor('outputs', () => out.vectors.length >= vectors && out.letters() >= dead, 60_000);
      expect([out.vectors.length, out.letters()]).toEqual([vectors, dead]);
      uninterrupted = expectReference(out.vectors);
    } finally {
      await service.stop();
      await service.app.close();
    }
  });

  it('SIGKILL of the service process mid-stream: a new process gives the vectors of an uninterrupted run', async () => {
    const prefix = `feature-test-${process.pid}-${Date.now()}-b.`;
    const bus = await client(prefix);
    const out = await gather(bus);
    const start = () => {
      const child = spawn(process.execPath, [main], {
        env: {
          ...process.env,
          KAFKA_BROKERS: inject('kafkaBrokers'),
          KAFKA_TOPIC_PREFIX: prefix,
          KAFKA_TOPIC_PARTITIONS: '3',
          PORT: '0',
          LOG_LEVEL: 'warn',
          FEATURE_CHECKPOINT_INTERVAL_MS: '300',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const unique = () => new Set(out.vectors.map((v) => v.eventId)).size;
    const chunks = 8;
    const size = Math.ceil(fixture.records.length / chunks);
    const first = start();
    for (let i = 0; i < chunks / 2; i++) await bus.produce(TOPICS.events, fixture.records.slice(i * size, (i + 1) * size));
    await waitFor('the first process to emit', () => unique() > reference.meta.length / 4, 120_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = unique();
    expect(atKill).toBeLessThan(reference.meta.length);

    const second = start();
    for (let i = chunks / 2; i < chunks; i++) await bus.produce(TOPICS.events, fixture.records.slice(i * size, (i + 1) * size));
    await waitFor('every vector', () => unique() >= reference.meta.length, 180_000);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    const got = expectReference(out.vectors);
    if (uninterrupted) expect(got).toEqual(uninterrupted);
  });

  it('one patient with 25,000 heart rates: every checkpoint fits the broker, the partition commits to its end, and a restore reads it back', async () => {
    const prefix = `feature-test-${process.pid}-${Date.now()}-c.`;
    const bus = await client(prefix);
    await bus.ensureTopics([{ topic: TOPICS.featureState, partitions: 3, compacted: true }]);
    const n = 25_000;
    const start = Date.now() - (n + 600) * 1000;
    const records = Array.from({ length: n }, (_, i) => {
      const at = new Date(start + i * 1000).toISOString();
      const event: RawEvent = {
        schema: 'vital_sign', schemaVersion: 1, eventId: `monitor-${i}`, patientId: 'P-MONITOR', encounterId: null,
        occurredAt: at, producedAt: at, source: 'api', payload: { kind: 'heart_rate', value: 60 + ((i * 7919) % 600) / 10, unit: '/min' },
      };
      return { key: event.patientId, value: JSON.stringify(event) };
    });
    // Only discharges emit here: the subject is the state and its checkpoints, not 25,000 vectors.
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', PORT: '0', FEATURE_TRIGGERS: 'discharge', FEATURE_CHECKPOINT_INTERVAL_MS: '500' };
    const config = loadConfig(env);
    const metric = async (service: ReturnType<typeof createFeatureService>, name: string) =>
      (await service.app.inject('/metrics')).body.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    const first = createFeatureService({ config, logger, bus: createBus(config, { clientId: 'feature-service', logger }) });
    await first.start();
    try {
      for (let i = 0; i < n; i += 2500) await bus.produce(TOPICS.events, records.slice(i, i + 2500));
      await waitFor('every event', async () => (await metric(first, 'ehr_feature_events_total')) === n, 180_000);
      // Committed to the end of the partition: every checkpoint (changelog records, then offset) went through.
      await waitFor('the offsets committed', async () => (await bus.groupLag(config.FEATURE_GROUP_ID, [TOPICS.events])) === 0, 60_000);
    } finally {
      await first.stop();
      await first.app.close();
    }
    const second = createFeatureService({ config, logger, bus: createBus(config, { clientId: 'feature-service', logger }) });
    await second.start();
    try {
      expect(await metric(second, 'ehr_feature_state_restores_total')).toBe(1);
      expect(await metric(second, 'ehr_feature_changelog_skipped_total')).toBe(0);
      await bus.produce(TOPICS.events, [records[n - 1]!]);
      await waitFor('the redelivered event', async () => (await metric(second, 'ehr_feature_duplicates_total')) === 1, 60_000);
    } finally {
      await second.stop();
      await second.app.close();
    }
  });
});
