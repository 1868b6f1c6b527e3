import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '@ehr/bus';
import { TOPICS, type SeverityScoreEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createScoringService, loadConfig } from '../src/index.js';
import { collectScores, syntheticFeatures, trainTestModel, vectorEvent, waitFor } from './fixtures.js';

const logger = createLogger({ service: 'scoring', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'scoring-challenger-'));
const served = join(dir, 'served.json');
const challenger = join(dir, 'challenger.json');
let versionServed = '';
let versionChallenger = '';

beforeAll(async () => {
  versionServed = (await trainTestModel(served, { seed: 1, name: 'served', labelNoise: 0.1 })).version;
  versionChallenger = (await trainTestModel(challenger, { seed: 2, name: 'challenger', labelNoise: 0.3 })).version;
}, 120_000);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('silent challenger', () => {
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  async function started(env: Record<string, string>, bus = new MemoryBus()) {
    const config = loadConfig({ MODEL_PATH: served, MODEL_WATCH_INTERVAL_MS: '100', SCORING_DRIFT_WINDOW: '100', ...env });
    const service = createScoringService({ config, logger, bus });
    running.push({ stop: async () => (await service.stop(), await service.app.close()) });
    await service.start();
    const seen = { scores: [] as SeverityScoreEvent[], shadow: [] as SeverityScoreEvent[] };
    for (const [topic, into] of [
      [TOPICS.scores, seen.scores],
      [TOPICS.shadowScores, seen.shadow],
    ] as const) {
      const sub = await collectScores(bus, topic, into, `check-${topic}`);
      running.unshift({ stop: () => sub.stop() });
    }
    return { bus, service, ...seen };
  }

  /** A small deterministic stream: 24 vectors of 8 patients, a third of them severe. */
  async function stream(bus: MemoryBus) {
    const vectors = Array.from({ length: 24 }, (_, i) =>
      vectorEvent(`p${i % 8}`, syntheticFeatures(100 + i, i % 3 === 0), new Date(Date.UTC(2026, 2, 1, 8 + Math.floor(i / 8))).toISOString()),
    );
    await bus.produce(TOPICS.features, vectors.map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
    return vectors;
  }

  it('scores every vector beside the served model onto its own topic, never onto ehr.scores.v1, and compares the two in GET /model', async () => {
    const { bus, service, scores, shadow } = await started({ CHALLENGER_MODEL_PATH: challenger, SCORING_CHALLENGER_WINDOW: '100' });
    const vectors = await stream(bus);
    await waitFor(() => scores.length === 24 && shadow.length === 24, 'served and shadow scores');

    // The ward's topic carries the served model only; the shadow topic the challenger only, with ids of its own.
    expect(new Set(scores.map((s) => s.payload.model?.version))).toEqual(new Set([versionServed]));
    expect(new Set(shadow.map((s) => s.payload.model?.version))).toEqual(new Set([versionChallenger]));
    const servedIds = new Set(scores.map((s) => s.payload.scoreId));
    expect(shadow.some((s) => servedIds.has(s.payload.scoreId))).toBe(false);
    expect(new Set(shadow.map((s) => s.payload.featureEventId))).toEqual(new Set(vectors.map((v) => v.eventId)));

    // The figures GET /model reports, worked out again from the two streams.
    const byVector = new Map(scores.map((s) => [s.payload.featureEventId, s.payload]));
    const pairs = shadow.map((s) => ({ a: byVector.get(s.payload.featureEventId)!, b: s.payload }));
    const deltas = pairs.map(({ a, b }) => Math.abs(a.probability! - b.probability!));
    const agreement = pairs.filter(({ a, b }) => a.band === b.band).length / pairs.length;
    const xs = pairs.map(({ a }) => a.probability!);
    const ys = pairs.map(({ b }) => b.probability!);
    const mx = mean(xs);
    const my = mean(ys);
    const r =
      xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i]! - my), 0) /
      Math.sqrt(xs.reduce((acc, x) => acc + (x - mx) ** 2, 0) * ys.reduce((acc, y) => acc + (y - my) ** 2, 0));

    const model = (await service.app.inject('/model')).json();
    expect(model.version).toBe(versionServed);
    expect(model.challenger).toMatchObject({ configured: true, loaded: true, name: 'challenger', version: versionChallenger, card: { name: 'challenger', trees: 20 } });
    const c = model.challenger.comparison;
    expect(c).toMatchObject({ scored: 24, window: 100, withProbabilities: 24, alerts: { policy: 'default@3' } });
    expect(c.bandAgreement).toBeCloseTo(agreement, 12);
    expect(c.meanAbsDeltaProbability).toBeCloseTo(mean(deltas), 12);
    expect(c.meanAbsDeltaProbability).toBeGreaterThan(0); // two different models
    expect(c.correlation).toBeCloseTo(r, 12);
    // Seeded models on a seeded stream: the figures are fixed (the bands agree on 23 of the 24
    // vectors; they were 8, 13 and 13 before the fixture's parts became what NEWS2 scores its
    // vital signs, 12, 14 and 14 before its NEWS2 total became the sum of its parts, and 8, 14
    // and 13 before its parts became whole numbers 0–3).
    expect([c.bandAgreement, c.alerts.served, c.alerts.challenger]).toEqual([23 / 24, 12, 12]);

    const report = await service.app.inject('/model/challenger/report');
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({ served: { mode: 'model', version: versionServed }, challenger: { version: versionChallenger }, comparison: { scored: 24 } });
    expect(report.json().comparison.bandAgreement).toBeCloseTo(agreement, 12);

    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`^ehr_scoring_challenger_band_agreement_ratio\\{service="scoring"\\} ${agreement.toString().replace('.', '\\.')}$`, 'm'));
    expect(metrics).toMatch(/^ehr_scoring_challenger_scores_total\{result="scored",service="scoring"\} 24$/m);
    expect(metrics).toMatch(new RegExp(`^ehr_scoring_challenger_window_alerts\\{model="challenger",service="scoring"\\} ${c.alerts.challenger}$`, 'm'));
    expect((await service.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready', dependencies: { challenger: { state: 'up' } } });
  });

  it('a broken challenger file leaves served scoring intact: skipped, logged, readiness degraded (not critical)', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"not": "a model"');
    const { bus, service, scores, shadow } = await started({ CHALLENGER_MODEL_PATH: broken });
    await stream(bus);
    await waitFor(() => scores.length === 24, 'served scores');
    expect(new Set(scores.map((s) => s.payload.model?.version))).toEqual(new Set([versionServed]));
    expect(shadow).toEqual([]);
    const ready = await service.app.inject('/health/ready');
    expect([ready.statusCode, ready.json().status]).toEqual([200, 'degraded']);
    expect(ready.json().dependencies.challenger).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/refused .*broken\.json/) });
    expect(ready.json().dependencies.model.state).toBe('up');
    expect((await service.app.inject('/model')).json().challenger).toMatchObject({ loaded: false, comparison: { scored: 0 } });
    expect((await service.app.inject('/metrics')).body).toMatch(/^ehr_scoring_challenger_scores_total\{result="skipped",service="scoring"\} 24$/m);

    // Fixed on disk, the watcher picks it up and the challenger scores from then on.
    copyFileSync(challenger, broken);
    await waitFor(() => service.challenger?.models.current?.version === versionChallenger, 'the challenger to load');
    await stream(bus);
    await waitFor(() => scores.length === 48 && shadow.length === 24, 'shadow scores after the fix');
  });

  it('a challenger that throws is skipped: every served score is still published, readiness names the failure', async () => {
    const { bus, service, scores, shadow } = await started({ CHALLENGER_MODEL_PATH: challenger });
    const model = service.challenger!.models.current!;
    vi.spyOn(model, 'score').mockImplementation(() => {
      throw new Error('challenger bug');
    });
    await stream(bus);
    await waitFor(() => scores.length === 24, 'served scores');
    await new Promise((r) => setTimeout(r, 100));
    expect(shadow).toEqual([]);
    expect(new Set(scores.map((s) => s.payload.model?.version))).toEqual(new Set([versionServed]));
    const ready = (await service.app.inject('/health/ready')).json();
    expect(ready).toMatchObject({ status: 'degraded', dependencies: { challenger: { state: 'degraded', detail: expect.stringContaining('challenger bug') } } });
    expect((await service.app.inject('/metrics')).body).toMatch(/^ehr_scoring_challenger_scores_total\{result="failed",service="scoring"\} 24$/m);
    // No dead letters, no redelivery: the served scores went out once.
    expect(new Set(scores.map((s) => s.payload.scoreId)).size).toBe(24);
  });

  it('shadow scores that cannot be produced are dropped and counted: the served scores went out, nothing is redelivered', async () => {
    const bus = new MemoryBus();
    const produce = bus.produce.bind(bus);
    vi.spyOn(bus, 'produce').mockImplementation((topic, messages) => (topic === TOPICS.shadowScores ? Promise.reject(new Error('shadow topic down')) : produce(topic, messages)));
    const { service, scores, shadow } = await started({ CHALLENGER_MODEL_PATH: challenger }, bus);
    await stream(bus);
    await waitFor(() => scores.length === 24, 'served scores');
    await new Promise((r) => setTimeout(r, 100));
    expect(shadow).toEqual([]);
    expect(new Set(scores.map((s) => s.payload.scoreId)).size).toBe(24);
    expect(scores).toHaveLength(24);
    expect((await service.app.inject('/metrics')).body).toMatch(/^ehr_scoring_challenger_scores_total\{result="unpublished",service="scoring"\} 24$/m);
    expect((await service.app.inject('/model')).json().challenger.comparison.scored).toBe(0);
  });

  it('reloads the challenger on POST /model/challenger/reload (admin token), refusing a bad artifact while the current one stays', async () => {
    const TOKEN = 'test-admin-token-0123456789';
    const path = join(dir, 'live-challenger.json');
    copyFileSync(challenger, path);
    const { service } = await started({ CHALLENGER_MODEL_PATH: path, MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: TOKEN });
    const reload = () => service.app.inject({ method: 'POST', url: '/model/challenger/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await service.app.inject({ method: 'POST', url: '/model/challenger/reload' })).statusCode).toBe(401);
    copyFileSync(served, path);
    expect((await reload()).json()).toEqual({ loaded: true, version: versionServed, previous: versionChallenger });
    writeFileSync(path, '{');
    const refused = await reload();
    expect([refused.statusCode, refused.json().challenger]).toEqual([422, versionServed]);
    expect(service.challenger?.models.current?.version).toBe(versionServed);
    // The served model never moved.
    expect(service.models.current?.version).toBe(versionServed);
  });

  it('without CHALLENGER_MODEL_PATH there is no challenger: no shadow topic output, GET /model says null, the report is 404', async () => {
    const { bus, service, scores, shadow } = await started({});
    await stream(bus);
    await waitFor(() => scores.length === 24, 'served scores');
    expect(shadow).toEqual([]);
    expect((await service.app.inject('/model')).json().challenger).toBeNull();
    expect((await service.app.inject('/model/challenger/report')).statusCode).toBe(404);
    expect((await service.app.inject({ method: 'POST', url: '/model/challenger/reload', headers: { authorization: 'Bearer x' } })).statusCode).not.toBe(200);
    expect((await service.app.inject('/health/ready')).json().dependencies.challenger).toBeUndefined();
  });
});
