// The feature service against a real broker: events in, vectors out, every event
// accounted for; then the real process (dist/main.js) killed with SIGKILL mid-stream and
// replaced, with the vectors compared to those of an uninterrupted run.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBus, KafkaBus } from '@ehr/bus';
import { buildTrainingRows, decodeDeadLetter, decodeFeatureVector, TOPICS, type FeatureVectorEvent } from '@ehr/features';
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
});
