import { MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { afterEach, describe, expect, it } from 'vitest';
import { createProducerService, loadConfig } from '../src/index.js';
import { heartRate, logger } from './helpers.js';

const vital = (patientId: string, value: number) => heartRate(`e-${patientId}-${value}`, value, patientId);

describe('producer service', () => {
  const running: { stop(): Promise<void>; app: { close(): Promise<unknown> } }[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop();
      await s.app.close();
    }
  });

  async function started(env: Record<string, string> = {}) {
    const bus = new MemoryBus();
    const service = createProducerService({ config: loadConfig(env), logger, bus });
    running.push(service);
    await service.start();
    return { bus, service };
  }

  it('answers health, readiness and metrics', async () => {
    const { service } = await started();
    expect((await service.app.inject('/health/live')).statusCode).toBe(200);
    const ready = await service.app.inject('/health/ready');
    expect([ready.statusCode, ready.json().status]).toEqual([200, 'ready']);
    expect((await service.app.inject('/metrics')).body).toContain('ehr_producer_events_published_total');
  });

  it('publishes a valid batch keyed by patient', async () => {
    const { bus, service } = await started();
    const r = await service.app.inject({ method: 'POST', url: '/events', payload: [vital('p1', 80), vital('p2', 90)] });
    expect([r.statusCode, r.json()]).toEqual([202, { accepted: 2 }]);
    const keys: string[] = [];
    const sub = await bus.subscribe({ groupId: 'check', topics: [TOPICS.events], handler: async ({ records }) => void keys.push(...records.map((x) => x.key!)) });
    while (keys.length < 2) await new Promise((res) => setTimeout(res, 10));
    await sub.stop();
    expect(keys.sort()).toEqual(['p1', 'p2']);
  });

  it('refuses a batch with a bad event, naming the event, the field and the reason', async () => {
    const { service } = await started();
    const bad = { ...vital('p1', 80), payload: { kind: 'heart_rate', value: 'fast', unit: '/min' } };
    const r = await service.app.inject({ method: 'POST', url: '/events', payload: { events: [vital('p2', 70), bad] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors).toEqual([{ index: 1, reason: 'schema_invalid', issues: [expect.objectContaining({ path: 'payload.value' })] }]);
  });

  it('limits batch size and body size', async () => {
    const { service } = await started({ PRODUCER_MAX_BATCH_EVENTS: '1', PRODUCER_BODY_LIMIT_BYTES: '2048' });
    const tooMany = await service.app.inject({ method: 'POST', url: '/events', payload: [vital('p1', 1), vital('p1', 2)] });
    expect(tooMany.statusCode).toBe(413);
    const tooBig = await service.app.inject({ method: 'POST', url: '/events', payload: [{ ...vital('p1', 1), pad: 'x'.repeat(4096) }] });
    expect(tooBig.statusCode).toBe(413);
  });

  it('refuses an event dated more than MAX_FUTURE_SKEW ahead of the wall clock as future_event (the batch is refused whole)', async () => {
    const { service } = await started();
    const ahead = (ms: number) => ({ ...vital('P-future', 80), eventId: `f-${ms}`, occurredAt: new Date(Date.now() + ms).toISOString() });
    const refused = await service.app.inject({ method: 'POST', url: '/events', payload: [ahead(0), ahead(6 * 60_000), { ...ahead(0), eventId: 'f-far', occurredAt: '9999-12-31T23:59:59-23:59' }] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([
      { index: 1, reason: 'future_event', issues: [{ path: 'occurredAt', message: expect.stringContaining('ahead of the wall clock') }] },
      { index: 2, reason: 'future_event', issues: [{ path: 'occurredAt', message: expect.stringContaining('MAX_FUTURE_SKEW') }] },
    ]);
    const within = await service.app.inject({ method: 'POST', url: '/events', payload: [ahead(4 * 60_000)] });
    expect(within.statusCode).toBe(202);
  });
});
