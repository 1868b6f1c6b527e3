// Scoring refuses what it cannot score correctly, and one vector cannot stop its partition.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus, RecordIsolation, type BusRecord } from '@ehr/bus';
import { decodeDeadLetter, decodeSeverityScore, FEATURE_NAMES, TOPICS, type DeadLetter } from '@ehr/features';
import { loadModelArtifact, type SeverityModel } from '@ehr/model';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDriftMonitor } from '../src/drift.js';
import { createScoringProcessor, createScoringService, loadConfig } from '../src/index.js';
import type { ModelHolder } from '../src/model-holder.js';
import { syntheticFeatures, trainTestModel, vectorEvent, waitFor, withNews2OfVitals, withoutNews2Vitals } from './fixtures.js';

const logger = createLogger({ service: 'scoring', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'scoring-robust-'));
const modelPath = join(dir, 'model.json');
beforeAll(async () => {
  await trainTestModel(modelPath, { seed: 3 });
}, 120_000);

async function collect(bus: MemoryBus, topic: string): Promise<{ records: BusRecord[]; stop(): Promise<void> }> {
  const records: BusRecord[] = [];
  const sub = await bus.subscribe({ groupId: `check-${topic}`, topics: [topic], handler: async (b) => void records.push(...b.records) });
  return { records, stop: () => sub.stop() };
}
const letters = (records: BusRecord[]): DeadLetter[] => records.map((r) => decodeDeadLetter(r.value)).map((d) => (d.ok ? d.value : (null as never)));

describe('the in-memory windows are bounded by configuration', () => {
  it('refuses a drift or challenger window too large for the heap', () => {
    expect(() => loadConfig({ SCORING_CHALLENGER_WINDOW: '1000000' })).toThrow(/SCORING_CHALLENGER_WINDOW/);
    expect(() => loadConfig({ SCORING_DRIFT_WINDOW: '1000000' })).toThrow(/SCORING_DRIFT_WINDOW/);
    expect(loadConfig({ SCORING_CHALLENGER_WINDOW: '100000', SCORING_DRIFT_WINDOW: '20000' })).toMatchObject({ SCORING_CHALLENGER_WINDOW: 100_000, SCORING_DRIFT_WINDOW: 20_000 });
  });
});

describe('drift after a model swap', () => {
  it('starts afresh: the last window\'s PSI was against the old model\'s training data', async () => {
    const metrics = createMetricsRegistry('scoring-test', { defaultMetrics: false });
    const drift = createDriftMonitor(metrics, 10);
    const a = await loadModelArtifact(modelPath);
    const far = Array.from(a.featureNames, () => 1e6);
    for (let i = 0; i < 10; i++) drift.observe(a, far);
    expect(Math.max(...Object.values(drift.latest()))).toBeGreaterThan(1);
    const b = await loadModelArtifact(modelPath);
    drift.observe(b, far);
    expect(drift.latest()).toEqual({});
    expect(await metrics.getSingleMetricAsString('ehr_scoring_feature_psi_max')).toMatch(/ehr_scoring_feature_psi_max(\{[^}]*\})? 0$/m);
  });
});

describe('scoring: refuses what it cannot score correctly', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** The service on an in-memory bus of one partition, with what it produces collected. */
  async function scoringWithCollectors() {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const service = createScoringService({ config: loadConfig({ MODEL_PATH: modelPath, MODEL_WATCH: 'false' }), logger, bus });
    cleanup.push(() => service.app.close(), () => service.stop());
    await service.start();
    const scores = await collect(bus, TOPICS.scores);
    const dl = await collect(bus, TOPICS.deadLetter);
    cleanup.push(() => scores.stop(), () => dl.stop());
    return { bus, service, scores, dl };
  }

  it('dead-letters a vector of another feature set (version, unknown names, missing names) as feature_set_mismatch, and scores the rest', async () => {
    const { bus, scores, dl } = await scoringWithCollectors();
    const good = () => vectorEvent('P-1', syntheticFeatures(1, false));
    const older = good();
    older.payload.featureSetVersion = '0.9.0';
    const renamed = good();
    const features: Record<string, number | null> = { ...renamed.payload.features, heart_rte: 80, ['__proto__']: 3 };
    delete features.heart_rate;
    renamed.payload.features = features;
    const partial = good();
    partial.payload.features = { heart_rate: 120, news2_total: 7 };
    await bus.produce(TOPICS.features, [good(), older, renamed, partial, good()].map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.records.length === 2 && dl.records.length === 3, 'two scores and three dead letters', 15_000);
    const got = letters(dl.records);
    expect(got.map((d) => d.reason)).toEqual(['feature_set_mismatch', 'feature_set_mismatch', 'feature_set_mismatch']);
    expect(got[0]!.error).toContain('"0.9.0"');
    expect(got[1]!.error).toContain('heart_rte');
    expect(got[1]!.error).toContain('__proto__');
    expect(got[2]!.error).toMatch(new RegExp(`${FEATURE_NAMES.length - 2} feature\\(s\\) of set .* missing`));
    expect(scores.records.map((r) => decodeSeverityScore(r.value).ok)).toEqual([true, true]);
  });

  it('dead-letters a vector whose NEWS2 is not one (total 999, a part of 7) as implausible_value, and answers 422 to POST /score with it', async () => {
    const { bus, service, scores, dl } = await scoringWithCollectors();
    const good = () => vectorEvent('P-3', syntheticFeatures(3, true));
    const total = good();
    total.payload.features = { ...total.payload.features, news2_total: 999 };
    const part = good();
    part.payload.features = { ...part.payload.features, news2_heart_rate: 7 };
    await bus.produce(TOPICS.features, [good(), total, part, good()].map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.records.length === 2 && dl.records.length === 2, 'two scores and two dead letters', 15_000);
    const got = letters(dl.records);
    expect(got.map((d) => [d.reason, d.originalEventId])).toEqual([
      ['implausible_value', total.eventId],
      ['implausible_value', part.eventId],
    ]);
    expect(got[0]!.error).toContain('999 is not a NEWS2 total');
    expect(got[1]!.details).toEqual([{ path: 'payload.features.news2_heart_rate', message: expect.stringContaining('7 is not a NEWS2 part') }]);
    // Every score published is one the score schema accepts.
    expect(scores.records.map((r) => decodeSeverityScore(r.value).ok)).toEqual([true, true]);

    const response = await service.app.inject({ method: 'POST', url: '/score', payload: total });
    expect([response.statusCode, response.json().type]).toEqual([422, 'tag:ehr-pipeline,2026:problem:implausible-news2']);
    const snapshot = await service.app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rate: 90, news2_total: -5 } } });
    expect(snapshot.statusCode).toBe(422);
  });

  it('never serves a band calmer than the NEWS2 the features carry: a total that is not the sum of its parts is refused, a snapshot gets NEWS2 from its vital signs', async () => {
    const { bus, service, scores, dl } = await scoringWithCollectors();
    const parts = { news2_respiratory_rate: 2, news2_spo2: 0, news2_air_or_oxygen: 0, news2_systolic_bp: 2, news2_heart_rate: 2, news2_consciousness: 0, news2_temperature: 2 };
    // Parts that sum to 8 (emergency response) under a total of 0: the floor read the total.
    const understated = vectorEvent('P-4', { ...withoutNews2Vitals(syntheticFeatures(4, false)), ...parts, news2_total: 0 });
    const consistent = vectorEvent('P-4', { ...withoutNews2Vitals(syntheticFeatures(4, false)), ...parts, news2_total: 8 });
    await bus.produce(TOPICS.features, [understated, consistent].map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.records.length === 1 && dl.records.length === 1, 'a score and a dead letter', 15_000);
    const [letter] = letters(dl.records);
    expect([letter!.reason, letter!.originalEventId]).toEqual(['implausible_value', understated.eventId]);
    expect(letter!.details).toEqual([{ path: 'payload.features.news2_total', message: 'news2_total 0 is not the sum of the NEWS2 parts given (8)' }]);
    const served = decodeSeverityScore(scores.records[0]!.value);
    expect(served.ok && [served.value.payload.news2, served.value.payload.band]).toEqual([8, 'high']);

    const post = (features: Record<string, number | null>) => service.app.inject({ method: 'POST', url: '/score', payload: { features } });
    const refused = await post({ ...parts, news2_total: 0 });
    expect([refused.statusCode, refused.json().type, refused.json().issues[0].path]).toEqual([422, 'tag:ehr-pipeline,2026:problem:implausible-news2', 'payload.features.news2_total']);
    // Vital signs and no NEWS2: served "low, NEWS2 not available" before; NEWS2 scores them 9.
    const vitals = await post({ respiratory_rate: 30, systolic_bp: 85, heart_rate: 140 });
    expect(vitals.statusCode).toBe(200);
    expect(vitals.json()).toMatchObject({ news2: 9, news2Band: 'high', band: 'high' });
    // NEWS2 that the vitals beside it contradict is refused, naming the part.
    const contradicted = await post({ respiratory_rate: 30, news2_respiratory_rate: 0, news2_total: 0 });
    expect([contradicted.statusCode, contradicted.json().issues.map((i: { path: string }) => i.path)]).toEqual([422, ['payload.features.news2_respiratory_rate']]);
    // Unresponsive (ACVPU 4) alone: consciousness was left unscored, "NEWS2 not available", low.
    const unresponsive = await post({ avpu: 4 });
    expect(unresponsive.json()).toMatchObject({ news2: 3, news2Band: 'low_medium' });
    expect(unresponsive.json().band).not.toBe('low');
    // A vital sent as null is missing, not 0 (Fastify's coercion made it 0: NEWS2 3 for a respiration rate never taken).
    const missing = await post({ respiratory_rate: null, heart_rate: 88 });
    expect([missing.statusCode, missing.json().news2]).toEqual([200, 0]);
  });

  it('POST /score answers 422 naming unknown feature names (and a vector of another set), instead of scoring them as missing', async () => {
    const bus = new MemoryBus();
    const service = createScoringService({ config: loadConfig({ MODEL_PATH: modelPath, MODEL_WATCH: 'false' }), logger, bus });
    cleanup.push(() => service.app.close(), () => service.stop());
    await service.start();
    const snapshot = await service.app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rte: 120, news2_totl: 7, heart_rate: 90 } } });
    expect(snapshot.statusCode).toBe(422);
    expect(snapshot.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(snapshot.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:unknown-features', status: 422, unknown: ['heart_rte', 'news2_totl'], detail: expect.stringContaining('heart_rte') });
    const vector = vectorEvent('P-2', { ...syntheticFeatures(2, true), pulse: 1 });
    const response = await service.app.inject({ method: 'POST', url: '/score', payload: vector });
    expect([response.statusCode, response.json().detail, response.json().type]).toEqual([422, expect.stringContaining('"pulse"'), 'tag:ehr-pipeline,2026:problem:feature-set-mismatch']);
    const other = vectorEvent('P-2', syntheticFeatures(2, true));
    other.payload.featureSetVersion = '2.0.0';
    expect((await service.app.inject({ method: 'POST', url: '/score', payload: other })).statusCode).toBe(422);
    // Known names, some left out, still score (missing values are allowed in a snapshot).
    expect((await service.app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rate: 120 } } })).statusCode).toBe(200);
  });

  it('POST /score refuses an asOf the score contract would refuse (400) or one ahead of the clock, and events dated ahead of it (422)', async () => {
    const bus = new MemoryBus();
    const service = createScoringService({ config: loadConfig({ MODEL_PATH: modelPath, MODEL_WATCH: 'false' }), logger, bus });
    cleanup.push(() => service.app.close(), () => service.stop());
    await service.start();
    const score = (payload: object) => service.app.inject({ method: 'POST', url: '/score', payload });
    for (const asOf of ['2026-06-30T23:59:60Z', '2026-01-01 10:00:00z', '0001-01-01T00:00:00Z']) {
      const r = await score({ features: { heart_rate: 120 }, asOf });
      expect([asOf, r.statusCode, r.json().type]).toEqual([asOf, 400, 'tag:ehr-pipeline,2026:problem:invalid-as-of']);
    }
    const ahead = await score({ features: { heart_rate: 120 }, asOf: '2099-01-01T00:00:00Z' });
    expect([ahead.statusCode, ahead.json().type, ahead.json().detail]).toEqual([422, 'tag:ehr-pipeline,2026:problem:future-event', expect.stringMatching(/^asOf 2099-01-01T00:00:00Z is \d+ days ahead/)]);
    const good = await score({ features: { heart_rate: 120 }, asOf: new Date(Date.now() - 60_000).toISOString() });
    expect(good.statusCode).toBe(200);
    const event = (occurredAt: string) => ({ schemaVersion: 1, eventId: `e-${occurredAt}`, patientId: 'P-9', encounterId: null, occurredAt, producedAt: occurredAt, source: 'synthetic', schema: 'vital_sign', payload: { kind: 'heart_rate', value: 120, unit: '/min' } });
    const now = new Date(Date.now() - 60_000).toISOString();
    const future = await score({ events: [event(now), event('2099-01-01T00:00:00Z')] });
    expect([future.statusCode, future.json().type, future.json().detail]).toEqual([422, 'tag:ehr-pipeline,2026:problem:future-event', expect.stringContaining('events[1]: occurredAt 2099-01-01T00:00:00Z')]);
    expect((await score({ events: [event(now)] })).statusCode).toBe(200);
    // The feature_vector form too.
    const vector = vectorEvent('P-9', syntheticFeatures(2, true));
    const dated = { ...vector, occurredAt: '2099-01-01T00:00:00Z', payload: { ...vector.payload, asOf: '2099-01-01T00:00:00Z' } };
    const refused = await score(dated);
    expect([refused.statusCode, refused.json().type]).toEqual([422, 'tag:ehr-pipeline,2026:problem:future-event']);
    expect((await score(vector)).statusCode).toBe(200);
  });

  it('refuses a vector whose NEWS2 parts its own vital signs contradict (on the bus and in POST /score\'s feature_vector form), and scores the consistent one', async () => {
    const { bus, service, scores, dl } = await scoringWithCollectors();
    const zeros = { news2_respiratory_rate: 0, news2_spo2: null, news2_air_or_oxygen: null, news2_systolic_bp: 0, news2_heart_rate: 0, news2_consciousness: null, news2_temperature: null, news2_total: 0 };
    // NEWS2 scores these vitals 9 (emergency): parts of 0 beside them were served low.
    const vitals = { ...withoutNews2Vitals(syntheticFeatures(6, false)), respiratory_rate: 30, systolic_bp: 85, heart_rate: 140 };
    const understated = vectorEvent('P-6', { ...vitals, ...zeros });
    const consistent = vectorEvent('P-6', withNews2OfVitals({ ...vitals, ...zeros }));
    await bus.produce(TOPICS.features, [understated, consistent].map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.records.length === 1 && dl.records.length === 1, 'a score and a dead letter', 15_000);
    const [letter] = letters(dl.records);
    expect([letter!.reason, letter!.originalEventId]).toEqual(['implausible_value', understated.eventId]);
    expect(letter!.details.map((d) => d.message)).toEqual([
      'news2_respiratory_rate 0 disagrees with respiratory_rate 30, which NEWS2 scores 3',
      'news2_systolic_bp 0 disagrees with systolic_bp 85, which NEWS2 scores 3',
      'news2_heart_rate 0 disagrees with heart_rate 140, which NEWS2 scores 3',
    ]);
    const served = decodeSeverityScore(scores.records[0]!.value);
    expect(served.ok && [served.value.payload.news2, served.value.payload.band]).toEqual([9, 'high']);
    const posted = await service.app.inject({ method: 'POST', url: '/score', payload: understated });
    expect([posted.statusCode, posted.json().type, posted.json().issues.length]).toEqual([422, 'tag:ehr-pipeline,2026:problem:implausible-news2', 3]);
  });

  it('a vector whose scoring throws is redelivered 3 times, then dead-lettered as processing_error; the partition moves on', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const real = await loadModelArtifact(modelPath);
    let throws = 0;
    // The real model with one fault: a heart rate of 999 makes it throw, as an unforeseen bug would.
    const faulty = Object.create(real, {
      score: {
        value: (row: Float64Array, topK?: number) => {
          if (row[real.featureNames.indexOf('heart_rate')] === 999) {
            throws++;
            throw new RangeError('tree walk left the forest');
          }
          return real.score(row, topK);
        },
      },
    }) as SeverityModel;
    const metrics = createMetricsRegistry('scoring-test', { defaultMetrics: false });
    const processor = createScoringProcessor({
      bus,
      logger,
      metrics,
      models: { current: faulty } as unknown as ModelHolder,
      drift: createDriftMonitor(metrics, 100),
      topK: 3,
      isolation: new RecordIsolation({ maxAttempts: 3, logger, metrics }),
    });
    const sub = await bus.subscribe({ groupId: 'scoring', topics: [TOPICS.features], handler: (b) => processor.handle(b) });
    const scores = await collect(bus, TOPICS.scores);
    const dl = await collect(bus, TOPICS.deadLetter);
    cleanup.push(() => sub.stop(), () => scores.stop(), () => dl.stop());
    const poison = vectorEvent('P-3', withNews2OfVitals({ ...syntheticFeatures(3, false), heart_rate: 999 }));
    const vectors = [vectorEvent('P-1', syntheticFeatures(4, false)), poison, ...Array.from({ length: 10 }, (_, i) => vectorEvent(`P-${i}`, syntheticFeatures(10 + i, i % 2 === 0)))];
    await bus.produce(TOPICS.features, vectors.map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.records.length >= 11 && dl.records.length === 1, 'the vectors behind the poison', 15_000);
    expect(throws).toBe(3);
    const [letter] = letters(dl.records);
    expect(letter).toMatchObject({ reason: 'processing_error', service: 'scoring', originalEventId: poison.eventId, sourceOffset: '1' });
    expect(letter!.error).toContain('tree walk left the forest');
    expect(JSON.parse(Buffer.from(letter!.originalBytes, 'base64').toString())).toEqual(poison);
    // Nothing was scored twice: the failed deliveries produced nothing.
    expect(scores.records).toHaveLength(11);
  });
});
