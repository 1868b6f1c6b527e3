// Fault: a consumer far slower than its input. The whole cohort is published onto the raw
// topic at once, and the warehouse is made slow (every request to the Snowflake test
// server held 300 ms by a proxy), so the sink falls far behind the scores. Kafka must hold the backlog, not the
// services: the sink's buffer stays under its SINK_MAX_BUFFERED_BYTES (it pauses
// consumption), memory stays bounded, and once the warehouse is fast again everything
// lands, exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from '@ehr/kafka-local/vitest';
import { TOPICS } from '@ehr/features';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, publishEvents, rawBus } from '../../src/inputs.js';
import { metricValue, startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { startSampler } from '../../src/procstat.js';
import { startSlowProxy, type SlowProxy } from '../../src/slow-proxy.js';
import { readWarehouse } from '../../src/warehouse.js';
import { finishRun, say, testModelBeforeAll } from './helpers.js';

const MAX_BUFFERED_BYTES = 1024 * 1024;
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: a consumer far slower than its input (backpressure, bounded memory)', () => {
  let run: PipelineRun | undefined;
  let server: SnowflakeTestServer | undefined;
  let proxy: SlowProxy | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ehr-e2e-slow-'));
  afterAll(async () => {
    await run?.stop();
    await proxy?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const model = testModelBeforeAll();

  it('keeps the backlog in Kafka, the buffers under their limit, memory bounded; then lands everything', async () => {
    const events = cohortEvents({ seed: 8321, patients: 60, hours: 24 });
    const password = `sf-slow-${process.pid}-${Date.now()}`;
    const dbPath = join(dir, 'snowflake.duckdb');
    server = await startSnowflakeTestServer({ port: 0, databasePath: dbPath, users: { sink: password } });
    proxy = await startSlowProxy(server.url, 300);
    run = await startPipeline({
      brokers: inject('kafkaBrokers'),
      runId: `e2e-slow-${process.pid}-${Date.now()}`,
      modelPath: model.path,
      snowflake: { url: proxy.url, user: 'sink', password },
      serviceEnv: { sink: { SINK_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES) } },
    });
    const current = run;
    const services = current.stack.services;
    const sampler = startSampler(() => Object.fromEntries(services.map((s) => [s, current.stack.pid(s)])));
    await sleep(1_000);
    const idle = Object.fromEntries(services.map((s) => [s, sampler.maxRss(s)]));

    const bus = await rawBus(current.kafka, current.prefix);
    try {
      await publishEvents(bus, events, { batchSize: 1_000 });
    } finally {
      await bus.close();
    }
    say(`published ${events.length} events at once`);

    // The slow phase: watch the backlog, the sink's buffer and the feature service's lag.
    let maxBacklog = 0;
    let maxBuffered = 0;
    let maxBufferedBytes = 0;
    let maxFeatureLag = 0;
    const slowUntil = Date.now() + 45_000;
    while (Date.now() < slowUntil) {
      const sink = await current.metrics('sink');
      const feature = await current.metrics('feature');
      maxBuffered = Math.max(maxBuffered, metricValue(sink, 'ehr_sink_buffered_records') || 0);
      maxBufferedBytes = Math.max(maxBufferedBytes, metricValue(sink, 'ehr_sink_buffered_bytes') || 0);
      maxFeatureLag = Math.max(maxFeatureLag, metricValue(feature, 'ehr_feature_consumer_lag_records') || 0);
      let backlog = 0;
      for (const [partition, end] of await current.observer.highWatermarks(TOPICS.scores)) {
        const landed = metricValue(sink, 'ehr_sink_warehouse_offset', { topic: `${current.prefix}${TOPICS.scores}`, partition: String(partition) });
        backlog += Number(end) - (Number.isNaN(landed) ? 0 : landed + 1);
      }
      maxBacklog = Math.max(maxBacklog, backlog);
      if (maxBacklog >= 3_000 && Date.now() > slowUntil - 30_000) break;
      await sleep(250);
    }
    proxy.delayMs = 0;
    say(`slow phase: scores waiting in Kafka for the sink up to ${maxBacklog}, sink buffer up to ${maxBuffered} records (${(maxBufferedBytes / MB).toFixed(1)} MiB), feature lag up to ${maxFeatureLag}, ${proxy.requests} warehouse requests held`);

    const { accounting } = await finishRun(run, {
      patients: identities(events),
      read: async () => {
        await server!.stop();
        server = undefined;
        return readWarehouse(dbPath);
      },
    });
    run = undefined;
    const summary = sampler.stop();
    for (const s of summary) say(`${s.name}: idle ${(idle[s.name]! / MB).toFixed(0)} MiB, peak ${(s.rssMaxBytes / MB).toFixed(0)} MiB RSS`);
    expect(accounting.published).toBe(events.length);

    // The sink was far behind its input…
    expect(maxBacklog).toBeGreaterThanOrEqual(3_000);
    // …yet held only what its buffer limit allows (1 MiB), plus the fetch being taken in
    // when the limit was crossed: at most 512 KiB from the broker, compressed (LZ4 packs a
    // compact score about 2.5 to 1), so under 4 MiB in all — not the backlog.
    expect(maxBufferedBytes).toBeGreaterThan(0);
    expect(maxBufferedBytes).toBeLessThan(MAX_BUFFERED_BYTES + 3 * MB);
    // A small share of the backlog (1,325 of 9,040 records when measured with compact scores).
    expect(maxBuffered * 4).toBeLessThan(maxBacklog);
    // Memory bounded: Kafka holds the backlog. Every service stays within what a 512 MiB
    // container allows (peaks here: V8 keeps garbage until it needs the room; the feature
    // service's peak comes from its largest input batch, bounded by the fetch size).
    for (const s of summary) expect(s.rssMaxBytes, `${s.name} peak RSS`).toBeLessThan(512 * MB);
  });
});
