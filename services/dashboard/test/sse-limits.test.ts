// Live connections are bounded: open streams in total and per address, a page that stops
// reading is closed past a small buffer, alerts are a ring, and /api/ward serves the one
// snapshot built per change instead of serializing the ward for every request.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';
import { scoreBytes } from './fixtures.js';

const logger = createLogger({ service: 'dashboard', level: 'silent' });
const T0 = Date.parse('2026-03-01T08:00:00Z');

/** GET /events from a chosen local address; resolves with the response (body not read unless asked). */
function openStream(url: string, localAddress = '127.0.0.1'): Promise<{ res: IncomingMessage; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events`, { localAddress, agent: false, headers: { accept: 'text/event-stream' } }, (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard live connections', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function started(env: Record<string, string>) {
    const bus = new MemoryBus();
    const service: DashboardService = createDashboardService({ config: loadConfig({ DASHBOARD_SERVICE_URLS: '', DASHBOARD_PUSH_INTERVAL_MS: '20', ...env }), logger, bus });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    await service.start();
    cleanup.push(async () => {
      await service.app.close();
      await service.stop();
    });
    const url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await service.app.inject('/metrics')).body)?.[1] ?? 0);
    return { bus, service, url, metric };
  }

  it('caps open streams in total (503) and per address (429), each with Retry-After', async () => {
    const { url } = await started({ DASHBOARD_SSE_MAX_CLIENTS: '3', DASHBOARD_SSE_MAX_PER_ADDRESS: '2' });
    const open = async (address: string) => {
      const s = await openStream(url, address);
      cleanup.push(() => s.req.destroy());
      return s.res;
    };
    expect((await open('127.0.0.1')).statusCode).toBe(200);
    expect((await open('127.0.0.1')).statusCode).toBe(200);
    const sameAddress = await open('127.0.0.1');
    expect([sameAddress.statusCode, sameAddress.headers['retry-after'], sameAddress.headers['content-type']]).toEqual([429, '10', 'application/problem+json; charset=utf-8']);
    expect((await open('127.0.0.2')).statusCode).toBe(200);
    const full = await open('127.0.0.3');
    expect([full.statusCode, full.headers['retry-after'], full.headers['content-type']]).toEqual([503, '10', 'application/problem+json; charset=utf-8']);
  });

  it('closes a page that stops reading once its unsent buffer passes the cap, and keeps serving the others', async () => {
    const { bus, service, url, metric } = await started({ DASHBOARD_SSE_MAX_BUFFER_BYTES: '65536' });
    // A page that stops reading: its socket is paused, so nothing leaves the kernel's buffers.
    const slow = connect((service.app.server.address() as { port: number }).port, '127.0.0.1');
    slow.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    slow.pause();
    cleanup.push(() => slow.destroy());
    await expect.poll(() => metric('ehr_dashboard_sse_clients\\{service="dashboard"\\}')).toBe(1);
    const reader = await openStream(url);
    let received = 0;
    reader.res.on('data', (chunk: Buffer) => (received += chunk.length));
    cleanup.push(() => reader.req.destroy());

    await expect.poll(() => metric('ehr_dashboard_sse_clients\\{service="dashboard"\\}')).toBe(2);
    const dropped = () => metric('ehr_dashboard_sse_dropped_total\\{reason="buffer",service="dashboard"\\}');
    // 400 patients per round: every update frame is far larger than the cap, and the kernel's
    // buffers (a few MB on loopback) fill within a few dozen rounds.
    for (let round = 0; (await dropped()) < 1 && round < 400; round++) {
      await bus.produce(TOPICS.scores, Array.from({ length: 400 }, (_, i) => ({ key: `p-${i}`, value: scoreBytes({ patientId: `p-${i}`, t: T0 + round * 60_000, band: 'low' }) })));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await dropped()).toBe(1);
    expect(await metric('ehr_dashboard_sse_clients\\{service="dashboard"\\}')).toBe(1);
    const before = received;
    await bus.produce(TOPICS.scores, [{ key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0 + 10_000_000, band: 'high' }) }]);
    await expect.poll(() => received).toBeGreaterThan(before);
  });

  it('serves /api/ward from the one snapshot built per change', async () => {
    const { bus, service, metric } = await started({ DASHBOARD_PUSH_INTERVAL_MS: '10000' });
    await bus.produce(TOPICS.scores, [{ key: 'p-1', value: scoreBytes({ patientId: 'p-1', t: T0, band: 'low' }) }]);
    await expect.poll(() => service.ward.size).toBe(1);
    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) bodies.add((await service.app.inject('/api/ward')).body);
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!).patients).toHaveLength(1);
    expect(await metric('ehr_dashboard_snapshot_builds_total\\{service="dashboard"\\}')).toBe(1);
    await bus.produce(TOPICS.scores, [{ key: 'p-2', value: scoreBytes({ patientId: 'p-2', t: T0, band: 'high' }) }]);
    await expect.poll(() => service.ward.size).toBe(2);
    service.stream.flush(); // the next push: the ward changed, so the snapshot is built again
    expect((await service.app.inject('/api/ward')).json().patients).toHaveLength(2);
    expect(await metric('ehr_dashboard_snapshot_builds_total\\{service="dashboard"\\}')).toBe(2);
  });

  it('keeps band-rise alerts in a ring of DASHBOARD_MAX_ALERTS', async () => {
    const { bus, service } = await started({ DASHBOARD_MAX_ALERTS: '3' });
    for (let i = 0; i < 5; i++) {
      await bus.produce(TOPICS.scores, [
        { key: `a-${i}`, value: scoreBytes({ patientId: `a-${i}`, t: T0, band: 'low' }) },
        { key: `a-${i}`, value: scoreBytes({ patientId: `a-${i}`, t: T0 + 60_000, band: 'high' }) },
      ]);
    }
    await expect.poll(() => service.ward.patient('a-4')?.alert?.to).toBe('high');
    const snapshot = service.stream.snapshot();
    expect(snapshot.alerts.map((a) => a.patientId)).toEqual(['a-2', 'a-3', 'a-4']);
    // A patient whose alert left the ring is no longer flagged.
    expect(service.ward.patient('a-0')?.alert).toBeNull();
    expect(service.ward.patient('a-4')?.alert).not.toBeNull();
  });
});
