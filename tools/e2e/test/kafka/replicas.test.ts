// Scale-out (issue 18, item 7): two replicas each of feature and scoring on six partitions,
// each pair in its service's one consumer group. The group splits the partitions, and
// moves them when a replica leaves and comes back; the feature service restores a moved
// partition's patients from its changelog. Afterwards: every event scored or dead-lettered
// exactly once, both replicas of each service did part of the work, and every score's
// features are what the batch API builds from the same events (state survived the moves).
import type {} from '@ehr/kafka-local/vitest';
import { engineOptions, loadConfig } from '@ehr/feature';
import { buildTrainingRows, FEATURE_NAMES } from '@ehr/features';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { ensureModel } from '../../src/model.js';
import { metricValue, startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { readScoreFeatures, readWarehouse } from '../../src/warehouse.js';
import { finishRun, say } from './helpers.js';

describe('scale-out on Kafka: two replicas of feature and of scoring share their groups', () => {
  let run: PipelineRun | undefined;
  afterAll(async () => {
    await run?.stop();
  });
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await ensureModel(undefined, say);
  });

  it('scores every event exactly once, both replicas of each consume, and state survives partitions moving', async () => {
    const events = cohortEvents({ seed: 8421, patients: 16, hours: 6 });
    const reference = await buildTrainingRows(events, engineOptions(loadConfig({})));
    run = await startPipeline({
      brokers: inject('kafkaBrokers'),
      runId: `e2e-replicas-${process.pid}-${Date.now()}`,
      modelPath,
      partitions: 6,
      replicas: { feature: 2, scoring: 2 },
    });
    const current = run;
    expect(current.stack.instances.map((i) => i.name)).toEqual(['producer', 'feature', 'feature-2', 'scoring', 'scoring-2', 'sink']);
    const quarter = Math.ceil(events.length / 4);
    const post = (from: number, to: number) => postEvents(() => current.stack.url('producer'), events.slice(from, to), { batchSize: 50 });

    await post(0, 2 * quarter);
    await current.drain(180_000, say);
    // feature-2 leaves: its partitions move to feature, which restores their patients from the changelog…
    const restoresBefore = metricValue(await current.metrics('feature'), 'ehr_feature_state_restores_total');
    expect((await current.stack.kill('feature-2', 'SIGTERM')).code).toBe(0);
    await post(2 * quarter, 3 * quarter);
    await current.drain(180_000, say);
    const restoresAfter = metricValue(await current.metrics('feature'), 'ehr_feature_state_restores_total');
    // …and comes back: the group splits them again, and feature-2 restores what it is given.
    await current.stack.restart('feature-2');
    await post(3 * quarter, events.length);

    const consumed: Record<string, number> = {};
    let features = new Map<string, Record<string, number | null>>();
    const { accounting, warehouse } = await finishRun(current, {
      patients: identities(events),
      beforeStop: async () => {
        for (const name of ['feature', 'feature-2'] as const) consumed[name] = metricValue(await current.metrics(name), 'ehr_feature_events_total');
        for (const name of ['scoring', 'scoring-2'] as const) consumed[name] = metricValue(await current.metrics(name), 'ehr_scoring_scores_total');
      },
      read: async () => {
        features = await readScoreFeatures(current.duckdbPath!);
        return readWarehouse(current.duckdbPath!);
      },
    });
    run = undefined;
    say(`consumed per instance: ${JSON.stringify(consumed)}; scored ${accounting.scored}`);

    // A POST retried after a lost answer publishes its events twice: those are duplicates.
    expect(accounting.distinctEventIds).toBe(new Set(events.map((e) => e.eventId)).size);
    expect(accounting.duplicates + accounting.scored + accounting.deadLettered).toBe(accounting.published);
    // Both replicas of each service did part of the work (feature-2 counts since its restart).
    for (const name of ['feature', 'feature-2', 'scoring', 'scoring-2']) expect(consumed[name], name).toBeGreaterThan(0);
    // Scoring was never restarted: its two counters together cover every score. They can
    // count more: a partition that moves on a rebalance is processed again from its last
    // checkpoint (feature) or commit (scoring), which emits the same vectors and scores again
    // under the same ids; the sink lands each id once, so the warehouse holds each event once.
    expect(consumed.scoring! + consumed['scoring-2']!).toBeGreaterThanOrEqual(accounting.scored);
    expect(warehouse.scores.length).toBe(accounting.scored);
    expect(new Set(warehouse.scores.map((s) => s.scoreId)).size).toBe(accounting.scored);
    expect(restoresAfter).toBeGreaterThan(Number.isNaN(restoresBefore) ? 0 : restoresBefore);

    // Every vector the batch API builds was scored, with the same features: a partition's
    // patients kept their history through every move between the replicas.
    expect([...features.keys()].sort()).toEqual(reference.meta.map((m) => m.vectorId).sort());
    const cols = reference.matrix.cols;
    reference.meta.forEach((m, i) => {
      const got = features.get(m.vectorId)!;
      const want = Object.fromEntries(FEATURE_NAMES.map((n, j) => {
        const v = reference.matrix.data[i * cols + j]!;
        return [n, Number.isNaN(v) ? null : v];
      }));
      expect(Object.fromEntries(FEATURE_NAMES.map((n) => [n, got[n] ?? null])), m.vectorId).toEqual(want);
    });
  });
});
