// Fault: the Kafka broker restarted mid-stream. This test runs its own broker (the shared
// one must not be restarted), with SASL/PLAIN on the listener the services and the test
// use (so KAFKA_SASL_* is exercised end to end, and its password is one of the secrets
// the log check looks for). The broker is stopped and started again on the same ports and
// data folder while the stream goes on through the producer's POST /events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, startKafkaBroker, type KafkaBroker } from '@ehr/kafka-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { ensureModel } from '../../src/model.js';
import { startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, say } from './helpers.js';

/** A broker with a PLAINTEXT listener (its own readiness check) and a SASL_PLAINTEXT one for clients. */
async function saslBroker(ports: { port: number; controllerPort: number; saslPort: number }, dataDir: string, password: string): Promise<KafkaBroker> {
  const host = '127.0.0.1';
  return startKafkaBroker({
    port: ports.port,
    controllerPort: ports.controllerPort,
    dataDir,
    heapMb: 384,
    properties: {
      listeners: `PLAINTEXT://${host}:${ports.port},SASL_PLAINTEXT://${host}:${ports.saslPort},CONTROLLER://${host}:${ports.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://${host}:${ports.port},SASL_PLAINTEXT://${host}:${ports.saslPort}`,
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_ehr="${password}";`,
    },
  });
}

describe('fault: the broker restarted mid-stream (SASL/PLAIN clients)', () => {
  let run: PipelineRun | undefined;
  let broker: KafkaBroker | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ehr-e2e-broker-'));
  afterAll(async () => {
    await run?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await ensureModel(undefined, say);
  });

  it('reconnects every service; nothing lost, nothing twice', async () => {
    const [port, controllerPort, saslPort] = await freePorts(3);
    const ports = { port: port!, controllerPort: controllerPort!, saslPort: saslPort! };
    const password = `sasl-${process.pid}-${Date.now()}-secret`;
    const dataDir = join(dir, 'kafka');
    broker = await saslBroker(ports, dataDir, password);
    const events = cohortEvents({ seed: 8320, patients: 40, hours: 24 });
    run = await startPipeline({
      brokers: `127.0.0.1:${ports.saslPort}`,
      runId: `e2e-broker-${process.pid}-${Date.now()}`,
      modelPath,
      sasl: { username: 'ehr', password },
    });
    const current = run;

    let restart = null as Promise<void> | null;
    const stats = await postEvents(() => current.stack.url('producer'), events, {
      batchSize: 100,
      rate: 200,
      retryForMs: 120_000,
      onBatch: (index) => {
        if (restart || index < 1_500) return;
        restart = (async () => {
          const started = Date.now();
          await broker!.stop();
          broker = await saslBroker(ports, dataDir, password);
          say(`broker restarted at event ${index}: down ${((Date.now() - started) / 1000).toFixed(1)} s`);
        })();
      },
    });
    await restart;
    say(`POST /events: ${stats.requests} requests, ${stats.retries} retried while the broker was away`);

    const { accounting } = await finishRun(run, { patients: identities(events), drainMs: 240_000 });
    run = undefined;
    expect(accounting.distinctEventIds).toBe(new Set(events.map((e) => e.eventId)).size);
  });
});
