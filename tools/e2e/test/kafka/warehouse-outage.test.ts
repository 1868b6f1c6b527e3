// Fault: the warehouse unavailable for 30 s mid-stream. The sink writes to Snowflake (the
// Snowflake-protocol test server, through the real snowflake-sdk); the server is stopped
// for 30 s while the stream goes on, then started again on the same port and database.
// Meanwhile the sink must say `degraded` and hold back (Kafka keeps the scores); afterwards
// every raw record is accounted for exactly, with no duplicate rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from '@ehr/kafka-local/vitest';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { metricValue, startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { readWarehouse } from '../../src/warehouse.js';
import { finishRun, say, testModelBeforeAll } from './helpers.js';

const OUTAGE_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: the warehouse (Snowflake) unavailable for 30 s', () => {
  let run: PipelineRun | undefined;
  let server: SnowflakeTestServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ehr-e2e-sf-'));
  afterAll(async () => {
    await run?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const model = testModelBeforeAll();

  it('degrades, holds back, then lands everything exactly once', async () => {
    const events = cohortEvents({ seed: 8319, patients: 40, hours: 24 });
    const password = `sf-pass-${process.pid}-${Date.now()}`;
    const users = { sink: password };
    const dbPath = join(dir, 'snowflake.duckdb');
    server = await startSnowflakeTestServer({ port: 0, databasePath: dbPath, users });
    const port = server.port;
    run = await startPipeline({
      brokers: inject('kafkaBrokers'),
      runId: `e2e-outage-${process.pid}-${Date.now()}`,
      modelPath: model.path,
      snowflake: { url: server.url, user: 'sink', password },
    });
    const current = run;

    const seen = new Set<string>();
    let outage: Promise<{ downMs: number }> | null = null;
    const stream = postEvents(() => current.stack.url('producer'), events, {
      batchSize: 100,
      rate: 130,
      onBatch: (index) => {
        if (outage || index < 1_000) return;
        outage = (async () => {
          await server!.stop();
          const down = Date.now();
          say(`warehouse stopped at event ${index}`);
          while (Date.now() - down < OUTAGE_MS) {
            const r = await current.stack.readiness();
            const body = r.sink?.body as { status?: string; dependencies?: { warehouse?: { state?: string } } } | undefined;
            seen.add(`${r.sink?.status} ${body?.status} warehouse=${body?.dependencies?.warehouse?.state}`);
            await sleep(Math.min(1_000, OUTAGE_MS - (Date.now() - down)));
          }
          server = await startSnowflakeTestServer({ port, databasePath: dbPath, users });
          const downMs = Date.now() - down;
          say(`warehouse back after ${(downMs / 1000).toFixed(1)} s`);
          return { downMs };
        })();
      },
    });
    await stream;
    const { downMs } = await outage!;
    say(`sink readiness seen during the outage: ${[...seen].join('; ')}`);
    // Still serving (200) but saying the warehouse is degraded.
    expect(seen).toContain('200 degraded warehouse=degraded');
    expect(downMs).toBeGreaterThanOrEqual(OUTAGE_MS);

    let failures = 0;
    const { accounting } = await finishRun(run, {
      patients: identities(events),
      beforeStop: async () => {
        failures = metricValue(await current.metrics('sink'), 'ehr_sink_warehouse_failures_total');
      },
      read: async () => {
        await server!.stop();
        server = undefined;
        return readWarehouse(dbPath);
      },
    });
    run = undefined;
    say(`sink warehouse failures counted: ${failures}`);
    expect(failures).toBeGreaterThan(0);
    expect(accounting.published).toBe(events.length);
  });
});
