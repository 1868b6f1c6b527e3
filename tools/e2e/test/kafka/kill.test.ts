// Fault: SIGKILL each service in turn mid-stream (producer, feature, scoring, sink), then
// restart it. The stream goes on through the producer's POST /events (retried while the
// producer is down, so a request whose answer was lost publishes its events twice).
// Afterwards: every raw record accounted for exactly, no duplicate rows, every service
// ready, every sent event on the raw topic, no identifier or secret in any log line.
import type {} from '@ehr/kafka-local/vitest';
import type { ServiceName } from '@ehr/deploy';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, say, testModelBeforeAll } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: SIGKILL each service in turn mid-stream, then restart it', () => {
  let run: PipelineRun | undefined;
  afterAll(async () => {
    await run?.stop();
  });
  const model = testModelBeforeAll();

  it('loses nothing and duplicates nothing; every service is ready again', async () => {
    const events = cohortEvents({ seed: 8318, patients: 40, hours: 24 });
    run = await startPipeline({ brokers: inject('kafkaBrokers'), runId: `e2e-kill-${process.pid}-${Date.now()}`, modelPath: model.path });
    const current = run;
    const victims: ServiceName[] = ['producer', 'feature', 'scoring', 'sink'];
    const batchSize = 100;
    // Kill points spread over the stream: 15 %, 35 %, 55 %, 75 % of the events.
    const killAt = victims.map((_, i) => Math.floor((events.length * (0.15 + 0.2 * i)) / batchSize) * batchSize);
    const faults: Promise<void>[] = [];
    const injected: string[] = [];
    const crash = async (service: ServiceName, index: number) => {
      const report = await current.stack.kill(service, 'SIGKILL');
      expect(report.signal).toBe('SIGKILL');
      const down = Date.now();
      await sleep(500); // down for a moment while the stream goes on
      await current.stack.restart(service); // resolves once /health/ready answers 200
      injected.push(`${service} SIGKILLed at event ${index}, ready again ${((Date.now() - down) / 1000).toFixed(1)} s later`);
    };
    const stats = await postEvents(() => current.stack.url('producer'), events, {
      batchSize,
      rate: 250,
      retryForMs: 90_000,
      onBatch: (index) => {
        const victim = victims[killAt.indexOf(index)];
        if (!victim) return;
        // Not awaited: the stream goes on while the service is down (POST /events is retried
        // until the producer is back).
        faults.push(crash(victim, index));
      },
    });
    await Promise.all(faults);
    for (const line of injected) say(line);
    say(`POST /events: ${stats.requests} requests, ${stats.retries} retried`);
    expect(injected).toHaveLength(4);

    const { accounting } = await finishRun(run, { patients: identities(events) });
    run = undefined;
    // Every event sent is on the raw topic (at least once: a retried batch may be there twice).
    expect(accounting.distinctEventIds).toBe(new Set(events.map((e) => e.eventId)).size);
    expect(accounting.published).toBeGreaterThanOrEqual(events.length);
  });
});
