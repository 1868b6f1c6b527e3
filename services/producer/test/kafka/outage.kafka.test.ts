// A broker that stops answering (its process frozen with SIGSTOP, as a hung or partitioned
// broker looks to a client): intake answers 503 with Retry-After instead of waiting with
// kafkajs, readiness says degraded, the produce answered 503 still lands once the broker
// is back, the client's retry carries the same event ids, and the feature service turns
// each event into exactly one vector.
import { createBus, KafkaBus } from '@ehr/bus';
import { createFeatureService, loadConfig as featureConfig } from '@ehr/feature';
import { decodeFeatureVector, TOPICS, type VitalSignEvent } from '@ehr/features';
import { startKafkaBroker, type KafkaBroker } from '@ehr/kafka-local';
import { createLogger, type RunnableService } from '@ehr/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducerService, loadConfig } from '../../src/index.js';

const logger = createLogger({ service: 'outage-test', level: 'error' });
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

const now = Date.now();
const vital = (i: number, batch: string): VitalSignEvent => ({
  schema: 'vital_sign',
  schemaVersion: 1,
  eventId: `${batch}-${i}`,
  patientId: `outage-p${i % 3}`,
  encounterId: null,
  occurredAt: new Date(now - 60_000 + i * 1_000 + (batch === 'b' ? 30_000 : 0)).toISOString(),
  producedAt: new Date(now).toISOString(),
  source: 'api',
  payload: { kind: 'heart_rate', value: 70 + i, unit: '/min' },
});

async function started(service: RunnableService) {
  await service.start();
  cleanup.push(async () => {
    await service.app.close();
    await service.stop();
  });
}

describe('producer intake while the broker does not answer (real broker)', () => {
  it('answers 503 quickly, reports degraded, and the pair (late produce + retry) lands once', async () => {
    // Its own broker: this test freezes it, which the shared broker of the run must not see.
    const broker: KafkaBroker = await startKafkaBroker({ partitions: 3 });
    cleanup.push(async () => {
      process.kill(broker.pid, 'SIGCONT');
      await broker.stop();
    });
    const env = { KAFKA_BROKERS: broker.brokers, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'error' };
    const producerConfig = loadConfig({ ...env, PRODUCER_PUBLISH_TIMEOUT_MS: '1500' });
    const producer = createProducerService({ config: producerConfig, logger, bus: createBus(producerConfig, { clientId: 'outage-producer', logger }) });
    await started(producer);
    const fConfig = featureConfig({ ...env, FEATURE_GROUP_ID: 'outage-feature' });
    await started(createFeatureService({ config: fConfig, logger, bus: createBus(fConfig, { clientId: 'outage-feature', logger }) }));
    await producer.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(producer.app.server.address() as { port: number }).port}`;
    const post = (events: VitalSignEvent[]) =>
      fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events), signal: AbortSignal.timeout(15_000) });

    const before = Array.from({ length: 6 }, (_, i) => vital(i, 'a'));
    expect((await post(before)).status).toBe(202);

    process.kill(broker.pid, 'SIGSTOP');
    const during = Array.from({ length: 6 }, (_, i) => vital(i, 'b'));
    // Without a deadline this request would wait as long as kafkajs retries (without limit).
    const refused = await post(during);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    const ready = (await (await fetch(`${url}/health/ready`)).json()) as { status: string; dependencies: Record<string, { state: string }> };
    expect([ready.status, ready.dependencies.intake?.state]).toEqual(['degraded', 'degraded']);
    process.kill(broker.pid, 'SIGCONT');

    // The client's retry: the same events, the same ids, until intake takes them.
    let retried = refused.status;
    for (const deadline = Date.now() + 120_000; retried !== 202 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 1_000 * Number(refused.headers.get('retry-after'))));
      retried = (await post(during)).status;
    }
    expect(retried).toBe(202);

    const check = new KafkaBus({ brokers: [broker.brokers], clientId: 'outage-check', logger });
    await check.connect();
    cleanup.push(() => check.close());
    const raw: string[] = [];
    const vectors: string[] = [];
    await check.subscribe({ groupId: 'outage-raw', topics: [TOPICS.events], handler: async ({ records }) => void raw.push(...records.map((r) => (JSON.parse(r.value.toString()) as { eventId: string }).eventId)) });
    await check.subscribe({
      groupId: 'outage-vectors',
      topics: [TOPICS.features],
      handler: async ({ records }) => {
        for (const r of records) {
          const v = decodeFeatureVector(r.value);
          if (v.ok) vectors.push(v.value.payload.triggerEventId);
        }
      },
    });
    const wanted = [...before, ...during].map((e) => e.eventId).sort();
    await expect.poll(() => raw.length >= 18 && vectors.length >= 12, { timeout: 120_000, interval: 500 }).toBe(true);
    await new Promise((r) => setTimeout(r, 2_000)); // anything more that would arrive, arrives now
    // The answered-503 produce landed too: every 'b' event is on the raw topic twice…
    expect(raw.filter((id) => id.startsWith('b-')).sort()).toEqual(during.flatMap((e) => [e.eventId, e.eventId]).sort());
    // …and the pipeline keeps one: one vector per event.
    expect(vectors.sort()).toEqual(wanted);
  });
});
