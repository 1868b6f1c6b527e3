// The compact wire format changes nothing in the warehouse: the same seeded scores, sent as
// the JSON with names of before and as frames, land as the same rows, features JSON included.
import { join } from 'node:path';
import { MemoryBus } from '@ehr/bus';
import { cohortStream } from '@ehr/cohort';
import {
  DEFAULT_ENGINE_OPTIONS,
  deterministicId,
  encodeSeverityScore,
  FEATURE_NAMES,
  news2OfFeatures,
  type PatientState,
  processEvent,
  type SeverityScoreEvent,
  severityScoreOf,
  toFeatureVectorEvent,
  TOPICS,
} from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, expect, it } from 'vitest';
import { createSinkService, loadConfig, type SinkService } from '../src/index.js';
import { tempDir, waitFor } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });
const when = new Date('2025-01-02T00:00:00Z');

/** Scores as scoring writes them, over the engine's vectors of a seeded synthetic ward: every other one NEWS2-only. */
function seededScores(): SeverityScoreEvent[] {
  const store = new Map<string, PatientState>();
  const scores: SeverityScoreEvent[] = [];
  for (const { event } of cohortStream({ seed: 11, patients: 12, hours: 8 })) {
    const o = processEvent(store, event, DEFAULT_ENGINE_OPTIONS);
    if (o.kind !== 'featurized' || !o.vector) continue;
    const v = toFeatureVectorEvent(o.vector, when);
    const model = scores.length % 2 === 0;
    const news2 = news2OfFeatures(v.payload.features);
    const probability = model ? (scores.length % 997) / 997 : null;
    const scoreId = deterministicId('severity-score', v.eventId, model ? 'rf@1' : 'news2-only');
    const top = FEATURE_NAMES[scores.length % FEATURE_NAMES.length]!;
    scores.push(
      severityScoreOf(v, scoreId, when, {
        mode: model ? 'model' : 'news2_only',
        probability,
        band: news2.total !== null && news2.total >= 5 ? 'medium' : 'low',
        bandSource: model ? 'model' : 'news2',
        bandReason: model ? `model probability ${probability}` : 'NEWS2 alone (no model)',
        news2: news2.total,
        news2Band: news2.band,
        model: model ? { name: 'rf', version: '1' } : null,
        features: v.payload.features,
        topFeatures: model ? [{ feature: top, value: v.payload.features[top] ?? null, contribution: 0.125 }] : [],
        latencyMs: scores.length % 40,
        context: { unit: v.payload.context.unit, department: v.payload.context.department, spo2Scale: v.payload.context.spo2Scale },
      }),
    );
  }
  return scores;
}

const running: { service: SinkService; cleanup: () => void }[] = [];
afterEach(async () => {
  for (const { service, cleanup } of running.splice(0)) {
    await service.stop();
    await service.app.close();
    cleanup();
  }
});

/** Lands `values` on the scores topic through a sink of its own; its rows, less what differs by run (broker time, cluster id, ingest time). */
async function land(values: (string | Buffer)[], keys: string[]): Promise<Record<string, unknown>[]> {
  const { dir, cleanup } = tempDir();
  const bus = new MemoryBus({ defaultPartitions: 3 });
  const service = createSinkService({ config: loadConfig({ DUCKDB_PATH: join(dir, 'w.duckdb'), SINK_FLUSH_MS: '50' }), logger, bus });
  running.push({ service, cleanup });
  await service.start();
  await bus.produce(TOPICS.scores, values.map((value, i) => ({ key: keys[i]!, value })));
  const count = async () => Number((await service.warehouse.read('SELECT count(*) AS n FROM severity_scores'))[0]!.n);
  await waitFor(async () => (await count()) === values.length, 30_000, `${values.length} rows`);
  expect(Number((await service.warehouse.read('SELECT count(*) AS n FROM dead_letters'))[0]!.n)).toBe(0);
  return service.warehouse.read('SELECT * EXCLUDE (ingested_at, src_timestamp, src_cluster) FROM severity_scores ORDER BY score_id');
}

it('lands the same rows, features JSON included, from JSON with names and from frames', async () => {
  const scores = seededScores();
  expect(scores.length).toBeGreaterThan(100);
  expect(scores.some((s) => Object.values(s.payload.features).includes(null))).toBe(true);
  const keys = scores.map((s) => s.patientId);
  const before = await land(scores.map((s) => JSON.stringify(s)), keys);
  const after = await land(scores.map(encodeSeverityScore), keys);
  expect(after).toHaveLength(scores.length);
  expect(after).toEqual(before);
  // The warehouse's features column is the whole catalogue by name, as before.
  expect(Object.keys(JSON.parse(String(after[0]!.features)) as object)).toEqual(FEATURE_NAMES);
}, 120_000);
