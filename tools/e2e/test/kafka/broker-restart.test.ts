// Fault: the Kafka broker restarted mid-stream. This test runs its own broker (the shared
// one must not be restarted), whose client listener is SASL_SSL: TLS with a certificate made
// for the run (openssl) and SASL/PLAIN, as a production cluster would be; so KAFKA_SSL,
// KAFKA_SSL_CA_FILE and KAFKA_SASL_* are exercised end to end, and the SASL password is one
// of the secrets the log check looks for. The broker is stopped and started again on the
// same ports and data folder while the stream goes on through the producer's POST /events.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, startKafkaBroker, type KafkaBroker } from '@ehr/kafka-local';
import { afterAll, describe, expect, it } from 'vitest';
import { cohortEvents, identities, postEvents } from '../../src/inputs.js';
import { startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, say, testModelBeforeAll } from './helpers.js';

/** A self-signed certificate for 127.0.0.1 and its key; `keystore` holds both (Kafka's PEM keystore). */
function certificate(dir: string): { ca: string; keystore: string } {
  const key = join(dir, 'key.pem');
  const ca = join(dir, 'cert.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', ca, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { encoding: 'utf8' },
  );
  if (made.error || made.status !== 0) throw new Error(`openssl could not make a test certificate (install openssl): ${made.error?.message ?? made.stderr}`);
  const keystore = join(dir, 'keystore.pem');
  writeFileSync(keystore, readFileSync(key, 'utf8') + readFileSync(ca, 'utf8'));
  return { ca, keystore };
}

/** A broker with a PLAINTEXT listener (its own readiness check) and a SASL_SSL one for clients. */
async function secureBroker(ports: { port: number; controllerPort: number; securePort: number }, dataDir: string, keystore: string, password: string): Promise<KafkaBroker> {
  const host = '127.0.0.1';
  return startKafkaBroker({
    port: ports.port,
    controllerPort: ports.controllerPort,
    dataDir,
    heapMb: 384,
    properties: {
      listeners: `PLAINTEXT://${host}:${ports.port},SASL_SSL://${host}:${ports.securePort},CONTROLLER://${host}:${ports.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://${host}:${ports.port},SASL_SSL://${host}:${ports.securePort}`,
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': keystore,
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_ehr="${password}";`,
    },
  });
}

describe('fault: the broker restarted mid-stream (clients on TLS + SASL/PLAIN)', () => {
  let run: PipelineRun | undefined;
  let broker: KafkaBroker | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ehr-e2e-broker-'));
  afterAll(async () => {
    await run?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const model = testModelBeforeAll();

  it('reconnects every service; nothing lost, nothing twice', async () => {
    const [port, controllerPort, securePort] = await freePorts(3);
    const ports = { port: port!, controllerPort: controllerPort!, securePort: securePort! };
    const password = `sasl-${process.pid}-${Date.now()}-secret`;
    const dataDir = join(dir, 'kafka');
    const { ca, keystore } = certificate(dir);
    broker = await secureBroker(ports, dataDir, keystore, password);
    const events = cohortEvents({ seed: 8320, patients: 40, hours: 24 });
    run = await startPipeline({
      brokers: `127.0.0.1:${ports.securePort}`,
      runId: `e2e-broker-${process.pid}-${Date.now()}`,
      modelPath: model.path,
      sasl: { username: 'ehr', password },
      tls: { caFile: ca },
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
          broker = await secureBroker(ports, dataDir, keystore, password);
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
