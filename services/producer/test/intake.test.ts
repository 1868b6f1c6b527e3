// Intake under overload and outages: a deadline on every produce (503 with Retry-After,
// readiness degraded, the late produce still lands), a bound on requests held at once
// (429), and the same event ids on the client's retry.
import { afterEach, describe, expect, it } from 'vitest';
import { HeldBus } from './held-bus.js';
import { drain, heartRate, startProducer } from './helpers.js';

const vital = (id: string, value: number) => heartRate(id, value);

describe('producer intake under outage and overload', () => {
  const running: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of running.splice(0)) await stop();
  });

  async function started(env: Record<string, string>) {
    const { bus, service, stop } = await startProducer(env, { bus: new HeldBus() });
    running.push(async () => {
      bus.release();
      await stop();
    });
    const post = (payload: unknown) => service.app.inject({ method: 'POST', url: '/events', payload: payload as object });
    return { bus, service, post };
  }

  it('answers 503 with Retry-After past the produce deadline, says degraded, and the late produce still lands; the retry carries the same ids', async () => {
    const { bus, service, post } = await started({ PRODUCER_PUBLISH_TIMEOUT_MS: '200' });
    bus.hold();
    const batch = [vital('e-1', 80), vital('e-2', 81)];
    const first = await post(batch);
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBe('2');
    expect(first.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(first.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:intake-unavailable', status: 503, retryAfterSeconds: 2, instance: '/events' });
    expect(first.json().detail).toMatch(/did not confirm within 200 ms.*same event ids/);
    const ready = (await service.app.inject('/health/ready')).json();
    expect(ready.status).toBe('degraded');
    expect(ready.dependencies.intake).toMatchObject({ state: 'degraded', critical: false });

    // While the earlier produce is unconfirmed, intake refuses at once instead of piling up.
    const meanwhile = await post([vital('e-3', 82)]);
    expect([meanwhile.statusCode, meanwhile.headers['retry-after']]).toEqual([503, '2']);
    expect(bus.waiting).toBe(1);

    bus.release();
    await expect.poll(async () => (await service.app.inject('/health/ready')).json().status).toBe('ready');
    const retry = await post(batch);
    expect(retry.statusCode).toBe(202);
    // Both copies are on the topic: the one answered 503 landed once the broker was back.
    const records = await drain(bus, 4);
    expect(records.map((r) => r.event.eventId).sort()).toEqual(['e-1', 'e-1', 'e-2', 'e-2']);
    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/ehr_producer_intake_refused_total\{reason="deadline",service="producer"\} 1/);
    expect(metrics).toMatch(/ehr_producer_intake_refused_total\{reason="unavailable",service="producer"\} 1/);
  });

  it('answers FHIR clients 503 with a transient OperationOutcome', async () => {
    const { bus, service } = await started({ PRODUCER_PUBLISH_TIMEOUT_MS: '100' });
    bus.hold();
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: 'Patient/p-9' },
      effectiveDateTime: '2026-01-01T10:00:00Z',
      valueQuantity: { value: 88, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    const r = await service.app.inject({ method: 'POST', url: '/fhir/Observation', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(observation) });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
  });

  it('holds a bounded number of requests, counting produces that outlived their 503; past it 429 with Retry-After', async () => {
    const { bus, service } = await started({ PRODUCER_MAX_CONCURRENT_REQUESTS: '2', PRODUCER_PUBLISH_TIMEOUT_MS: '5000' });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}/events`;
    bus.hold();
    const send = (id: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([vital(id, 90)]) });
    const held = [send('h-1'), send('h-2')];
    await expect.poll(() => bus.waiting).toBe(2);
    const third = await send('h-3');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await third.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:intake-overloaded', status: 429, retryAfterSeconds: 1 });
    expect((await service.app.inject('/metrics')).body).toMatch(/ehr_producer_intake_in_flight\{service="producer"\} 2/);
    bus.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([202, 202]);
    await expect.poll(async () => (await send('h-4')).status).toBe(202);
  });
});
