// Issue 8's end-to-end test: the four built services as processes on the run's broker, a
// synthetic cohort (with its artefacts: duplicates, late, out-of-order and impossible
// values) streamed through the producer's POST /events, and every raw event accounted for
// in the warehouse, exactly; every service ready; the feature service's own counts agree;
// safe defaults answered by the running services; no identifier or secret in any log line.
import { request as httpRequest } from 'node:http';
import type {} from '@ehr/kafka-local/vitest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { ensureModel } from '../../src/model.js';
import { metricValue, startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, say } from './helpers.js';

describe('end to end on Kafka: producer → feature → scoring → sink (DuckDB)', () => {
  let run: PipelineRun | undefined;
  afterAll(async () => {
    await run?.stop();
  });

  const events = cohortEvents({ seed: 8317, patients: 40, hours: 24 });
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await ensureModel(undefined, say);
  });

  it('accounts for every event (scored, dead-lettered or duplicate), with every service ready', async () => {
    run = await startPipeline({ brokers: inject('kafkaBrokers'), runId: `e2e-${process.pid}-${Date.now()}`, modelPath });
    const current = run;
    const stats = await postEvents(() => current.stack.url('producer'), events, { batchSize: 250 });
    expect(stats.retries).toBe(0);

    const feature: Record<string, number> = {};
    const { accounting, warehouse } = await finishRun(run, {
      patients: identities(events),
      beforeStop: async () => {
        const text = await current.metrics('feature');
        for (const name of ['events', 'featurized', 'vectors', 'duplicates', 'dead_letters']) feature[name] = metricValue(text, `ehr_feature_${name}_total`);
        const scoring = await current.metrics('scoring');
        feature.scored = metricValue(scoring, 'ehr_scoring_scores_total');
        feature.scoringDeadLetters = metricValue(scoring, 'ehr_scoring_dead_letters_total');
        await safeDefaults(current);
      },
    });
    run = undefined;

    // What was sent is what is on the topic (the producer published every event once).
    expect(accounting.published).toBe(events.length);
    expect(accounting.distinctEventIds).toBe(new Set(events.map((e) => e.eventId)).size);
    // The cohort's artefacts came through as what they are.
    expect(accounting.duplicates).toBeGreaterThan(0);
    expect(accounting.deadLettered).toBeGreaterThan(0);
    // The feature service's own counts say the same (no restart: its counters cover the run).
    expect(feature.events).toBe(accounting.published);
    expect(feature.duplicates).toBe(accounting.duplicates);
    expect(feature.dead_letters).toBe(accounting.deadLettered);
    expect(feature.featurized).toBe(accounting.scored);
    expect(feature.vectors).toBe(accounting.scored);
    expect(Number.isNaN(feature.scoringDeadLetters) ? 0 : feature.scoringDeadLetters).toBe(0);
    // Scored by the model, not NEWS2 alone.
    expect(warehouse.scores.length).toBe(accounting.scored);
  });
});

/** Admin endpoints need the token; bodies past the limit are refused. */
async function safeDefaults(run: PipelineRun): Promise<void> {
  const scoring = run.stack.url('scoring');
  const reload = (auth?: string) =>
    fetch(`${scoring}/model/reload`, { method: 'POST', headers: auth ? { authorization: auth } : {}, signal: AbortSignal.timeout(10_000) });
  expect((await reload()).status, 'admin endpoint without a token').toBe(401);
  expect((await reload('Bearer not-the-token-not-the-token')).status, 'admin endpoint with a wrong token').toBe(401);
  expect((await reload(`Bearer ${run.adminToken}`)).status, 'admin endpoint with the token').toBe(200);
  const big = Buffer.alloc(6 * 1024 * 1024, 0x20); // past the producer's 5 MiB and scoring's 1 MiB limits
  expect(await postStatus(`${run.stack.url('producer')}/events`, big), 'producer body limit').toBe(413);
  expect(await postStatus(`${scoring}/score`, big), 'scoring body limit').toBe(413);
}

/** The status of a POST, read even when the server answers before the body is sent and closes (413). */
function postStatus(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length }, timeout: 20_000 });
    request.once('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy(new Error(`POST ${url} timed out`)));
    request.on('error', (error) => {
      // EPIPE/ECONNRESET after the answer came are expected: the server stopped reading.
      if (!request.writableFinished) setTimeout(() => reject(error), 1_000).unref();
    });
    request.end(body);
  });
}
