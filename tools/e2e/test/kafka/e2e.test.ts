// Issue 8's end-to-end test: the four built services as processes on the run's broker, a
// synthetic cohort (with its artefacts: duplicates, late, out-of-order and impossible
// values) streamed through the producer's POST /events, and every raw event accounted for
// in the warehouse, exactly; every service ready; the feature service's own counts agree;
// safe defaults answered by the running services; no identifier or secret in any log line.
import { request as httpRequest } from 'node:http';
import type {} from '@ehr/kafka-local/vitest';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { metricValue, startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, testModelBeforeAll } from './helpers.js';

describe('end to end on Kafka: producer → feature → scoring → sink (DuckDB)', () => {
  let run: PipelineRun | undefined;
  afterAll(async () => {
    await run?.stop();
  });

  const events = cohortEvents({ seed: 8317, patients: 40, hours: 24 });
  const model = testModelBeforeAll();

  it('accounts for every event (scored, dead-lettered or duplicate), with every service ready', async () => {
    run = await startPipeline({ brokers: inject('kafkaBrokers'), runId: `e2e-${process.pid}-${Date.now()}`, modelPath: model.path });
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
        // The model is loaded: scoring says ready, not degraded.
        expect(((await current.stack.readiness()).scoring?.body as { status?: string }).status).toBe('ready');
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
    expect(new Set(warehouse.scores.map((s) => s.mode))).toEqual(new Set(['model']));
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
  const big = 6 * 1024 * 1024; // past the producer's 5 MiB and scoring's 1 MiB limits
  expect(await postStatus(`${run.stack.url('producer')}/events`, big), 'producer body limit').toBe(413);
  expect(await postStatus(`${scoring}/score`, big), 'scoring body limit').toBe(413);
}

/**
 * The status of a POST that declares a body of `length` bytes, of which only the first
 * 64 KiB are sent: a server enforcing its body limit answers 413 from the declared length
 * alone (sending all of it would race the server closing the connection on us).
 */
function postStatus(url: string, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': length } });
    const deadline = setTimeout(() => request.destroy(new Error(`POST ${url}: no answer in 30 s`)), 30_000);
    request.once('response', (response) => {
      clearTimeout(deadline);
      response.resume();
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    request.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    request.write(Buffer.alloc(Math.min(length, 64 * 1024), 0x20));
  });
}
