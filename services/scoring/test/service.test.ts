import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '@ehr/bus';
import { decodeDeadLetter, TOPICS, type SeverityScoreEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScoringService, loadConfig } from '../src/index.js';
import { collectScores, snapshotFeatures, syntheticFeatures, trainTestModel, vectorEvent, waitFor, withoutNews2Vitals } from './fixtures.js';

const logger = createLogger({ service: 'scoring', level: 'silent' });
const TOKEN = 'test-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'scoring-'));
const modelA = join(dir, 'a.json');
const modelB = join(dir, 'b.json');
let versionA = '';
let versionB = '';

beforeAll(async () => {
  versionA = (await trainTestModel(modelA, { seed: 1, name: 'model-a' })).version;
  versionB = (await trainTestModel(modelB, { seed: 2, name: 'model-b' })).version;
}, 120_000);

describe('scoring service', () => {
  const running: { stop(): Promise<void>; app: { close(): Promise<unknown> } }[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop();
      await s.app.close();
    }
  });

  async function started(env: Record<string, string>) {
    const bus = new MemoryBus();
    const config = loadConfig({ MODEL_WATCH_INTERVAL_MS: '100', SCORING_DRIFT_WINDOW: '100', ...env });
    const service = createScoringService({ config, logger, bus });
    running.push(service);
    await service.start();
    const scores: SeverityScoreEvent[] = [];
    const sub = await collectScores(bus, TOPICS.scores, scores, 'check');
    running.unshift({ stop: () => sub.stop(), app: { close: async () => undefined } });
    return { bus, service, scores };
  }

  it('without a model scores with NEWS2 alone, marked as such, and reports degraded', async () => {
    const { bus, service, scores } = await started({ MODEL_PATH: join(dir, 'missing.json') });
    const ready = await service.app.inject('/health/ready');
    expect([ready.statusCode, ready.json().status]).toEqual([200, 'degraded']);
    expect(ready.json().dependencies.model.state).toBe('degraded');

    const features = { ...withoutNews2Vitals(syntheticFeatures(5, true)), news2_respiratory_rate: 3, news2_spo2: 0, news2_air_or_oxygen: 0, news2_systolic_bp: 2, news2_heart_rate: 2, news2_consciousness: 0, news2_temperature: 0, news2_total: 7 };
    await bus.produce(TOPICS.features, [{ key: 'p1', value: JSON.stringify(vectorEvent('p1', features)) }]);
    await waitFor(() => scores.length === 1, 'a score');
    expect(scores[0]!.payload).toMatchObject({ mode: 'news2_only', probability: null, model: null, news2: 7, news2Band: 'high', band: 'high', topFeatures: [] });
    expect((await service.app.inject('/model')).json()).toMatchObject({ loaded: false, mode: 'news2_only' });
  });

  it('scores with the model: probability, band from the artifact thresholds, top features, version, lineage', async () => {
    const { bus, service, scores } = await started({ MODEL_PATH: modelA });
    expect((await service.app.inject('/health/ready')).json().status).toBe('ready');
    const severe = vectorEvent('p-severe', syntheticFeatures(11, true));
    const stable = vectorEvent('p-stable', syntheticFeatures(12, false));
    await bus.produce(TOPICS.features, [severe, stable].map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    await waitFor(() => scores.length === 2, 'two scores');
    const byPatient = Object.fromEntries(scores.map((s) => [s.patientId, s.payload]));
    const a = byPatient['p-severe']!, b = byPatient['p-stable']!;
    expect(a.mode).toBe('model');
    expect(a.model).toEqual({ name: 'model-a', version: versionA });
    expect(a.probability!).toBeGreaterThan(b.probability!);
    expect(a.featureEventId).toBe(severe.eventId);
    expect(a.features).toEqual(severe.payload.features);
    expect(a.topFeatures.length).toBe(5);
    expect(a.topFeatures.map((t) => t.feature)).toContain('heart_rate');
    expect(a.context).toEqual({ unit: 'ward-a', department: 'medicine', spo2Scale: 1 });
    expect(['low', 'medium', 'high']).toContain(a.band);
  });

  it('swaps models on POST /model/reload only with the token, and refuses a mismatched artifact while serving the old one', async () => {
    const path = join(dir, 'live.json');
    writeFileSync(path, JSON.stringify(JSON.parse((await import('node:fs')).readFileSync(modelA, 'utf8'))));
    const { service } = await started({ MODEL_PATH: path, MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: TOKEN });
    expect((await service.app.inject('/model')).json().version).toBe(versionA);

    expect((await service.app.inject({ method: 'POST', url: '/model/reload' })).statusCode).toBe(401);
    expect((await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);

    (await import('node:fs')).copyFileSync(modelB, path);
    const ok = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect([ok.statusCode, ok.json()]).toEqual([200, { loaded: true, version: versionB, previous: versionA }]);

    await trainTestModel(path, { seed: 3, featureSchemaVersion: '0.0.1-old' });
    const refused = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:model-rejected', status: 422, serving: expect.any(String) });
    expect(refused.json().reasons.join()).toMatch(/feature schema 0\.0\.1-old does not match/);
    expect((await service.app.inject('/model')).json().version).toBe(versionB);
  });

  it('without a file at MODEL_PATH scores on NEWS2, counts the model as missing (not refused), and a reload answers 404', async () => {
    const { service } = await started({ MODEL_PATH: join(dir, 'not-there.json'), MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: TOKEN });
    expect(service.models.current).toBeNull();
    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/^ehr_scoring_model_loads_total\{[^}]*result="missing"[^}]*\} 1$/m);
    expect(metrics).not.toMatch(/result="refused"/);
    const reload = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect([reload.statusCode, reload.json().type]).toEqual([404, 'tag:ehr-pipeline,2026:problem:model-missing']);
  });

  it('refuses an artifact larger than MODEL_MAX_BYTES before parsing it, and keeps serving the model it has', async () => {
    const fs = await import('node:fs');
    const path = join(dir, 'bounded.json');
    fs.copyFileSync(modelA, path);
    const { service } = await started({ MODEL_PATH: path, MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: TOKEN, MODEL_MAX_BYTES: String(2 * 1024 * 1024) });
    expect(service.models.current?.version).toBe(versionA);
    // Valid JSON, and the same model, but past the bound: a file the heap could not hold is refused the same way.
    fs.writeFileSync(path, fs.readFileSync(modelA, 'utf8') + ' '.repeat(2 * 1024 * 1024));
    const refused = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().reasons.join()).toMatch(/more than the 2097152 an artifact may have/);
    expect(service.models.current?.version).toBe(versionA);
  });

  it('refuses admin calls when no token is configured', async () => {
    const { service } = await started({ MODEL_PATH: modelA });
    const r = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: 'Bearer anything-at-all-here' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().detail).toContain('SCORING_ADMIN_TOKEN');
  });

  it('picks up a new artifact written over the watched file', async () => {
    const path = join(dir, 'watched.json');
    (await import('node:fs')).copyFileSync(modelA, path);
    const { service } = await started({ MODEL_PATH: path });
    expect(service.models.current?.version).toBe(versionA);
    (await import('node:fs')).copyFileSync(modelB, path);
    await waitFor(() => service.models.current?.version === versionB, 'the watcher to swap');
  });

  it('scores synchronously over HTTP, validates the request, and describes itself in OpenAPI', async () => {
    const { service } = await started({ MODEL_PATH: modelA });
    const snapshot = await service.app.inject({ method: 'POST', url: '/score', payload: { features: snapshotFeatures(20, true) } });
    expect(snapshot.statusCode).toBe(200);
    expect(snapshot.json()).toMatchObject({ mode: 'model', model: { version: versionA } });
    expect(snapshot.json().probability).toBeGreaterThanOrEqual(0);

    const vector = await service.app.inject({ method: 'POST', url: '/score', payload: vectorEvent('p9', syntheticFeatures(21, false)) });
    expect(vector.statusCode).toBe(200);

    // A patient snapshot as raw events goes through the feature code, then the model.
    const at = (m: number) => new Date(Date.UTC(2026, 2, 1, 10, m)).toISOString();
    const raw = (m: number, kind: string, value: number, unit: string) => ({
      schema: 'vital_sign', schemaVersion: 1, eventId: `raw-${m}-${kind}`, patientId: 'p-snap', encounterId: 'e-snap',
      occurredAt: at(m), producedAt: at(m), source: 'api', payload: { kind, value, unit },
    });
    const events = await service.app.inject({
      method: 'POST',
      url: '/score',
      payload: { events: [raw(0, 'heart_rate', 128, '/min'), raw(1, 'respiratory_rate', 26, '/min'), raw(2, 'systolic_bp', 88, 'mm[Hg]')] },
    });
    expect(events.statusCode).toBe(200);
    expect(events.json()).toMatchObject({ mode: 'model', features: expect.objectContaining({ news2_total: 8 }), news2: 8, news2Band: 'high' });
    const empty = await service.app.inject({ method: 'POST', url: '/score', payload: { events: [{ schema: 'vital_sign', schemaVersion: 1 }] } });
    expect([empty.statusCode, empty.json().detail]).toEqual([422, expect.stringMatching(/no event could be featurized \(1 schema_invalid\)/)]);

    const bad = await service.app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rate: 'fast' } } });
    expect(bad.statusCode).toBe(400);

    const spec = (await service.app.inject('/openapi.json')).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/model', '/model/reload', '/score']));
  });

  it('dead-letters unreadable vectors and reports drift per feature', async () => {
    const { bus, service, scores } = await started({ MODEL_PATH: modelA });
    const letters: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'audit',
      topics: [TOPICS.deadLetter],
      handler: async ({ records }) => {
        for (const r of records) {
          const d = decodeDeadLetter(r.value);
          if (d.ok) letters.push(d.value.reason);
        }
      },
    });
    running.unshift({ stop: () => sub.stop(), app: { close: async () => undefined } });
    await bus.produce(TOPICS.features, [{ key: 'p1', value: '{"schema":"feature_vector","schemaVersion":1}' }]);
    await bus.produce(
      TOPICS.features,
      Array.from({ length: 100 }, (_, i) => vectorEvent(`p${i}`, syntheticFeatures(100 + i, i % 3 === 0))).map((v) => ({ key: v.patientId, value: JSON.stringify(v) })),
    );
    await waitFor(() => letters.length === 1 && scores.length === 100, 'scores and a dead letter');
    expect(letters).toEqual(['schema_invalid']);
    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/ehr_scoring_feature_psi\{feature="heart_rate",service="scoring"\} \d/);
    expect(metrics).toContain('ehr_scoring_dead_letters_total{reason="schema_invalid",service="scoring"} 1');
  });
});
