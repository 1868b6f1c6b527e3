import { Writable } from 'node:stream';
import { MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger, createServiceApp, createMetricsRegistry, Readiness } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService, type WardDelta, type WardSnapshot } from '../src/index.js';
import { scoreBytes } from './fixtures.js';
import { openSse } from './sse.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');

describe('dashboard service', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function start(env: Record<string, string> = {}, extra: { serviceHealthUrls?: Record<string, string>; logs?: string[] } = {}) {
    const bus = new MemoryBus();
    const destination = new Writable({
      write(chunk: Buffer, _e, done) {
        extra.logs?.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ service: 'dashboard', level: extra.logs ? 'debug' : 'silent', destination });
    const config = loadConfig({ DASHBOARD_PUSH_INTERVAL_MS: '50', DASHBOARD_SERVICE_URLS: '', ...env });
    const service: DashboardService = createDashboardService({ config, logger, bus, ...(extra.serviceHealthUrls ? { serviceHealthUrls: extra.serviceHealthUrls } : {}) });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(async () => {
      await service.stop();
      await service.app.close();
    });
    const address = service.app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return { bus, service, url };
  }

  it('answers health, readiness and metrics, and is ready only once consuming', async () => {
    const { service } = await start();
    expect((await service.app.inject('/health/live')).statusCode).toBe(200);
    expect((await service.app.inject('/health/ready')).statusCode).toBe(503);
    await service.start();
    const ready = await service.app.inject('/health/ready');
    expect([ready.statusCode, ready.json().status]).toEqual([200, 'ready']);
    expect((await service.app.inject('/metrics')).body).toContain('ehr_dashboard_scores_total');
  });

  it('serves the page and its scripts as they are, with a strict content security policy', async () => {
    const { service } = await start();
    const page = await service.app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script type="module" src="/app.js">');
    for (const asset of ['/app.js', '/charts.js', '/style.css']) expect((await service.app.inject(asset)).statusCode).toBe(200);
    expect((await service.app.inject('/app.js')).headers['content-type']).toContain('javascript');
  });

  it('pushes a snapshot, then coalesced updates with band rises, to every open page', async () => {
    const { bus, service, url } = await start();
    await service.start();
    await bus.produce(TOPICS.scores, [{ key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0, band: 'low', unit: 'Ward 5' }) }]);
    await expect.poll(() => service.ward.size).toBe(1);

    const sse = await openSse(`${url}/events`);
    cleanup.push(async () => sse.close());
    const snapshot = JSON.parse((await sse.next((e) => e.event === 'snapshot')).data) as WardSnapshot;
    expect(snapshot.patients.map((p) => [p.id, p.band, p.unit])).toEqual([['p-1', 'low', 'Ward 5']]);

    await bus.produce(TOPICS.scores, [
      { key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0 + 60_000, band: 'medium' }) },
      { key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0 + 120_000, band: 'high' }) },
      { key: 'p-2', value: scoreBytes({ patientId: 'p-2', t: T0, band: 'low' }) },
    ]);
    const updates: WardDelta[] = [];
    while (updates.flatMap((u) => u.upserts).filter((u) => u.id === 'p-1' && u.band === 'high').length === 0) {
      updates.push(JSON.parse((await sse.next((e) => e.event === 'update')).data) as WardDelta);
    }
    const alerts = updates.flatMap((u) => u.alerts).map((a) => [a.patientId, a.from, a.to]);
    expect(alerts).toEqual(expect.arrayContaining([['p-1', 'medium', 'high']]));
    const p1 = updates.flatMap((u) => u.upserts).filter((u) => u.id === 'p-1');
    expect(p1.flatMap((u) => u.add ?? []).map((pt) => pt[0])).toEqual([T0 + 60_000, T0 + 120_000]);
  });

  it('sends one snapshot per page, however large, and then only updates', async () => {
    const { bus, service, url } = await start();
    await service.start();
    // 300 patients: a snapshot far above the socket's high-water mark.
    await bus.produce(TOPICS.scores, Array.from({ length: 300 }, (_, i) => ({ key: `p-${i}`, value: scoreBytes({ patientId: `p-${i}`, t: T0, band: 'low' }) })));
    await expect.poll(() => service.ward.size).toBe(300);
    const sse = await openSse(`${url}/events`);
    cleanup.push(async () => sse.close());
    expect(JSON.parse((await sse.next((e) => e.event === 'snapshot')).data).patients).toHaveLength(300);
    await bus.produce(TOPICS.scores, [{ key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0 + 1000, band: 'high' }) }]);
    const next = await sse.next((e) => e.event !== 'message');
    expect(next.event).toBe('update');
    expect(JSON.parse(next.data).upserts.map((u: { id: string }) => u.id)).toEqual(['p-1']);
  });

  it("never shows a challenger's shadow scores (ehr.shadow-scores.v1): the ward is the served model's alone", async () => {
    const { bus, service } = await start();
    await service.start();
    const challenger = { name: 'challenger', version: '2.0.0' };
    // Shadow first: had the dashboard read them, p-shadow would appear and p-1 would be high.
    await bus.produce(TOPICS.shadowScores, [
      { key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0, band: 'high', model: challenger }) },
      { key: 'p-shadow', value: scoreBytes({ patientId: 'p-shadow', t: T0, band: 'high', model: challenger }) },
    ]);
    await bus.produce(TOPICS.scores, [{ key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0 + 1000, band: 'low' }) }]);
    await expect.poll(() => service.ward.size).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    const ward = (await service.app.inject('/api/ward')).json();
    expect(ward.patients.map((p: { id: string; band: string }) => [p.id, p.band])).toEqual([['p-1', 'low']]);
    expect((await service.app.inject('/api/patients/p-shadow')).statusCode).toBe(404);
    expect((await service.app.inject('/api/patients/p-1')).json().hist).toHaveLength(1);
  });

  it('gives the full time series of one patient, and 404 for an unknown one', async () => {
    const { bus, service } = await start();
    await service.start();
    await bus.produce(TOPICS.scores, [0, 1, 2].map((i) => ({ key: 'p-9', value: scoreBytes({ patientId: 'p-9', t: T0 + i * 1000, band: 'low', news2: i }) })));
    await expect.poll(() => service.ward.patient('p-9')?.hist.length).toBe(3);
    const found = await service.app.inject('/api/patients/p-9');
    expect(found.json().hist.map((pt: number[]) => pt[2])).toEqual([0, 1, 2]);
    expect((await service.app.inject('/api/patients/nobody')).statusCode).toBe(404);
    expect((await service.app.inject('/api/ward')).json().patients).toHaveLength(1);
  });

  it("shows each service's readiness, reachable or not", async () => {
    const stub: FastifyInstance = createServiceApp({
      service: 'scoring',
      logger: createLogger({ service: 'scoring', level: 'silent' }),
      metrics: createMetricsRegistry('scoring', { defaultMetrics: false }),
      readiness: new Readiness('scoring').register('model', () => ({ state: 'degraded', detail: 'no model loaded' }), { critical: false }),
    });
    await stub.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => stub.close());
    const stubPort = (stub.server.address() as { port: number }).port;
    const { service } = await start({}, { serviceHealthUrls: { scoring: `http://127.0.0.1:${stubPort}`, sink: 'http://127.0.0.1:9' } });
    await service.health.pollOnce();
    const list = (await service.app.inject('/api/services')).json();
    expect(list.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([
      ['scoring', 'degraded'],
      ['sink', 'unreachable'],
    ]);
    expect(list[0].detail).toContain('no model loaded');
  });

  it('skips scores it cannot read, and never logs a patient id', async () => {
    const logs: string[] = [];
    const { bus, service } = await start({}, { logs });
    await service.start();
    await bus.produce(TOPICS.scores, [
      { key: 'secret-patient-77', value: '{"schema":"severity_score","patientId":"secret-patient-77"}' },
      { key: 'secret-patient-78', value: scoreBytes({ patientId: 'secret-patient-78', t: T0, band: 'high' }) },
    ]);
    await expect.poll(() => service.ward.size).toBe(1);
    await service.app.inject('/api/patients/secret-patient-78');
    await service.app.inject('/api/patients/secret-patient-77');
    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/ehr_dashboard_scores_total\{outcome="invalid",service="dashboard"\} 1/);
    expect(logs.join('')).toContain('skipped invalid scores');
    expect(logs.join('')).not.toContain('secret-patient');
  });

  it('a score the ward throws on is redelivered 3 times, then dead-lettered as processing_error; the patients behind it still show', async () => {
    const { bus, service } = await start({ CONSUMER_STALL_SECONDS: '60' });
    await service.start();
    const letters: string[] = [];
    const audit = await bus.subscribe({ groupId: 'audit', topics: [TOPICS.deadLetter], handler: async ({ records }) => void letters.push(...records.map((r) => r.value.toString())) });
    cleanup.push(() => audit.stop());
    // The real ward, with one fault: this patient's score makes it throw, as an unforeseen bug would.
    const apply = service.ward.apply.bind(service.ward);
    let throws = 0;
    service.ward.apply = (score, at) => {
      if (score.patientId === 'P-bad') {
        throws++;
        throw new TypeError("Cannot read properties of undefined (reading 'unit')");
      }
      return apply(score, at);
    };
    const ids = ['P-1', 'P-bad', ...Array.from({ length: 10 }, (_, i) => `P-${i + 2}`)];
    await bus.produce(TOPICS.scores, ids.map((id, i) => ({ key: 'same-partition', value: scoreBytes({ patientId: id, t: T0 + i * 1000, band: 'low' }) })));
    await expect.poll(() => service.ward.size, { timeout: 10_000 }).toBe(11);
    await expect.poll(() => letters.length, { timeout: 10_000 }).toBe(1);
    expect(throws).toBe(3);
    const letter = JSON.parse(letters[0]!) as { reason: string; service: string; error: string; originalBytes: string };
    expect(letter).toMatchObject({ reason: 'processing_error', service: 'dashboard' });
    expect(letter.error).toContain("reading 'unit'");
    expect(JSON.parse(Buffer.from(letter.originalBytes, 'base64').toString())).toMatchObject({ patientId: 'P-bad' });
    const ready = (await service.app.inject('/health/ready')).json();
    expect(ready).toMatchObject({ status: 'ready', dependencies: { partitions: { state: 'up' } } });
  });
});
