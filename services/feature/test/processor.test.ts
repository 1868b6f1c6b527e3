import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { buildTrainingRows, decodeDeadLetter, decodeFeatureVector, jsonPartOf, TOPICS, type DeadLetter, type FeatureVectorEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createFeatureService, engineOptions, loadConfig } from '../src/index.js';
import { asRow, byId, cohortFixture, collect, waitFor } from './fixtures/stream.js';

const logger = createLogger({ service: 'feature', level: 'silent' });
type Service = ReturnType<typeof createFeatureService>;

async function metric(service: Service, name: string): Promise<number> {
  const body = (await service.app.inject('/metrics')).body;
  let total = 0;
  for (const line of body.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) total += Number(line.split(' ').at(-1));
  return total;
}

const decodeAll = <T>(records: { value: Buffer }[], decode: (b: Buffer) => { ok: boolean; value?: T }) =>
  records.map((r) => {
    const d = decode(r.value);
    if (!d.ok) throw new Error('undecodable output');
    return d.value as T;
  });

describe('feature service on the in-memory bus', () => {
  const running: Service[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop().catch(() => undefined);
      await s.app.close();
    }
  });

  function start(bus: MemoryBus, env: Record<string, string> = {}): Service {
    const service = createFeatureService({ config: loadConfig({ KAFKA_TOPIC_PARTITIONS: '3', ...env }), logger, bus });
    running.push(service);
    return service;
  }

  const fixture = cohortFixture({ seed: 7, patients: 25, hours: 36, artefactRate: 0.05, poison: true });

  it('accounts for every event: featurized + dead-lettered + duplicates = in, and the outputs match the counts', async () => {
    const bus = new MemoryBus({ defaultPartitions: 3 });
    const service = start(bus);
    await service.start();
    const vectors = await collect(bus, TOPICS.features, 'test-vectors');
    const letters = await collect(bus, TOPICS.deadLetter, 'test-letters');
    await bus.produce(TOPICS.events, fixture.records);
    const n = fixture.records.length;
    await waitFor('all events processed', async () => (await metric(service, 'ehr_feature_events_total')) === n);
    const [featurized, dead, dups, emitted] = (await Promise.all(
      ['ehr_feature_featurized_total', 'ehr_feature_dead_letters_total', 'ehr_feature_duplicates_total', 'ehr_feature_vectors_total'].map((m) => metric(service, m)),
    )) as [number, number, number, number];
    expect(featurized + dead + dups).toBe(n);
    expect(dups).toBeGreaterThan(0);
    await waitFor('outputs delivered', () => vectors.records.length === emitted && letters.records.length === dead);
    const reasons = decodeAll<DeadLetter>(letters.records, decodeDeadLetter).map((d) => d.reason);
    for (const reason of ['unparseable', 'unknown_unit', 'implausible_value']) expect(reasons).toContain(reason);
    expect(await metric(service, 'ehr_feature_corrections_total')).toBeGreaterThan(0);
    expect(await metric(service, 'ehr_feature_state_patients')).toBeGreaterThan(0);
    const garbage = decodeAll<DeadLetter>(letters.records, decodeDeadLetter).find((d) => d.reason === 'unparseable')!;
    expect(Buffer.from(garbage.originalBytes, 'base64')).toEqual(Buffer.from([0x7b, 0xff, 0x00, 0x22]));
    await vectors.stop();
    await letters.stop();
  });

  it('emits exactly the vectors the batch API builds from the same events', async () => {
    const bus = new MemoryBus({ defaultPartitions: 3 });
    const service = start(bus);
    await service.start();
    const out = await collect(bus, TOPICS.features, 'test-vectors');
    await bus.produce(TOPICS.events, fixture.records);
    const batch = await buildTrainingRows(fixture.events, engineOptions(loadConfig({})));
    await waitFor('every vector', () => out.records.length >= batch.meta.length);
    const vectors = decodeAll<FeatureVectorEvent>(out.records, decodeFeatureVector);
    expect(vectors.length).toBe(batch.meta.length);
    const streamed = new Map(vectors.map((v) => [v.eventId, v]));
    batch.meta.forEach((m, i) => {
      const v = streamed.get(m.vectorId);
      expect(v, `vector for ${m.triggerEventId}`).toBeDefined();
      expect([v!.patientId, v!.payload.asOf, v!.payload.triggerEventId]).toEqual([m.patientId, m.asOf, m.triggerEventId]);
      expect(asRow(v!)).toEqual(batch.matrix.data.slice(i * batch.matrix.cols, (i + 1) * batch.matrix.cols));
    });
    await out.stop();
  }, 120_000); // 15 s at load 40; the default 30 s timed out when every workspace tested at once

  it('a second instance restores the changelog after a crash and the vectors equal an uninterrupted run', async () => {
    const reference = await buildTrainingRows(fixture.events, engineOptions(loadConfig({})));
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    const env = { FEATURE_STATE_CHANGELOG: 'on', FEATURE_CHECKPOINT_INTERVAL_MS: '0', FEATURE_CHECKPOINT_MAX_EVENTS: '1000' };
    const observer = new MemoryBus({ broker });
    const out = await collect(observer, TOPICS.features, 'test-vectors');
    const first = new MemoryBus({ broker });
    const a = start(first, { ...env, FEATURE_CHECKPOINT_INTERVAL_MS: '3600000' });
    await a.start();
    const half = Math.floor(fixture.records.length / 2);
    await observer.produce(TOPICS.events, fixture.records.slice(0, half));
    await waitFor('first half', async () => (await metric(a, 'ehr_feature_events_total')) >= half * 0.9);
    // A crash: the bus goes away without the final checkpoint (only count-based ones happened).
    await first.close();
    expect(await metric(a, 'ehr_feature_checkpoints_total')).toBeGreaterThan(0);

    const b = start(new MemoryBus({ broker }), env);
    await b.start();
    expect(await metric(b, 'ehr_feature_state_restores_total')).toBe(1);
    await observer.produce(TOPICS.events, fixture.records.slice(half));
    await waitFor('every vector', () => byIdSafe(out.records).size >= reference.meta.length);
    const got = byId(decodeAll<FeatureVectorEvent>(out.records, decodeFeatureVector));
    expect([...got.keys()].sort()).toEqual(reference.meta.map((m) => m.vectorId).sort());
    reference.meta.forEach((m, i) => expect(asRow(got.get(m.vectorId) as FeatureVectorEvent)).toEqual(reference.matrix.data.slice(i * reference.matrix.cols, (i + 1) * reference.matrix.cols)));
    // The events after A's last checkpoint were processed twice: same ids, same contents.
    expect(out.records.length).toBeGreaterThan(got.size);
    await out.stop();
  });

  it('rebalances (a member joins mid-stream, later crashes) change nothing in the vectors', async () => {
    const reference = await buildTrainingRows(fixture.events, engineOptions(loadConfig({})));
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    const env = { FEATURE_STATE_CHANGELOG: 'on', FEATURE_CHECKPOINT_INTERVAL_MS: '50' };
    const observer = new MemoryBus({ broker });
    const out = await collect(observer, TOPICS.features, 'test-vectors');
    const a = start(new MemoryBus({ broker }), env);
    await a.start();
    const third = Math.floor(fixture.records.length / 3);
    const processed = async () => (await metric(a, 'ehr_feature_events_total')) + (await metric(b, 'ehr_feature_events_total'));
    await observer.produce(TOPICS.events, fixture.records.slice(0, third));
    await waitFor('first third', async () => (await metric(a, 'ehr_feature_events_total')) >= third * 0.5);
    const busB = new MemoryBus({ broker });
    const b = start(busB, env);
    await b.start();
    await observer.produce(TOPICS.events, fixture.records.slice(third, 2 * third));
    await waitFor('B takes part', async () => (await metric(b, 'ehr_feature_events_total')) > 0 && (await processed()) >= 1.5 * third);
    await busB.close(); // B crashes: its partitions go back to A, which must restore them
    await observer.produce(TOPICS.events, fixture.records.slice(2 * third));
    await waitFor('every vector', () => byIdSafe(out.records).size >= reference.meta.length);
    const got = byId(decodeAll<FeatureVectorEvent>(out.records, decodeFeatureVector));
    expect(got.size).toBe(reference.meta.length);
    reference.meta.forEach((m, i) => expect(asRow(got.get(m.vectorId) as FeatureVectorEvent)).toEqual(reference.matrix.data.slice(i * reference.matrix.cols, (i + 1) * reference.matrix.cols)));
    // A restored at its start; again only if B committed what it processed before it crashed
    // (else A resumes from its own commit with its own state, and B's vectors come again with
    // the same ids): either way the vectors above equal the batch API's.
    expect(await metric(a, 'ehr_feature_state_restores_total')).toBeGreaterThanOrEqual(1);
    await out.stop();
  });
});

function byIdSafe(records: { value: Buffer }[]): Set<string> {
  // Ids from the frame's JSON header: cheaper than decoding every vector while waiting.
  return new Set(records.map((r) => (JSON.parse(Buffer.from(jsonPartOf(r.value)).toString()) as { eventId: string }).eventId));
}
