// The ward's alerts through the dashboard, against a real alerting service: the list and the
// acknowledge and dismiss calls go there with the signed-in person's own token (the alerting
// service checks the scope itself), and a POST another site's page could send is refused
// before anything is forwarded.
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';
import { startAlerting, type TestAlerting } from './alerting.js';
import { scoreBytes } from './fixtures.js';

const logger = createLogger({ service: 'dashboard', level: 'silent' });
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const OTHER_READ = 'other-read-0123456789abcdef0123456789ab';
const T0 = Date.parse('2026-03-01T08:00:00Z');

interface AlertsBody {
  alerts: { alertId: string; patientId: string; status: string; acknowledgedBy: string | null }[];
  dismissReasons: string[];
}

describe('dashboard alerts (through the alerting service)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A dashboard and an alerting service on one broker, with an alert raised for p-1 (and p-2). */
  async function setup({ dashboardTokens = READ, alertingTokens = READ, alerting = true } = {}) {
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const tokens = (list: string): Record<string, string> => (list ? { AUTH_READ_TOKENS: list } : {});
    let service: TestAlerting | null = null;
    if (alerting) {
      service = await startAlerting(broker, { ...tokens(alertingTokens), KAFKA_TOPIC_PARTITIONS: '1' }, T0);
      cleanups.push(() => service!.close());
    }
    const dashboard = createDashboardService({
      config: loadConfig({ DASHBOARD_SERVICE_URLS: '', ...tokens(dashboardTokens) }),
      logger,
      bus: new MemoryBus({ broker }),
      serviceHealthUrls: service ? { alerting: service.url } : { alerting: 'http://127.0.0.1:9' },
    });
    cleanups.push(async () => {
      await dashboard.app.close();
      await dashboard.stop();
    });
    if (service) {
      await new MemoryBus({ broker }).produce(
        TOPICS.scores,
        ['p-1', 'p-2'].map((patientId) => ({ key: patientId, value: scoreBytes({ patientId, t: T0, band: 'high', probability: 0.8, unit: 'Ward A' }) })),
      );
      for (const deadline = Date.now() + 10_000; service.engine.openAlerts().length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    }
    return { dashboard, alerting: service };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  async function cookie(d: DashboardService, token: string): Promise<Record<string, string>> {
    const r = await d.app.inject({ method: 'POST', url: '/login', payload: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const set = String(r.headers['set-cookie']);
    return { cookie: set.split(';')[0]! };
  }
  const post = (d: DashboardService, url: string, headers: Record<string, string>, body: unknown = {}) =>
    d.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', ...headers }, payload: JSON.stringify(body) });

  it('lists the open alerts and acknowledges one as the signed-in person (their token reaches the alerting service)', async () => {
    const { dashboard, alerting } = await setup();
    const session = await cookie(dashboard, READ);
    const list = await dashboard.app.inject({ url: '/api/alerts', headers: session });
    expect(list.statusCode).toBe(200);
    const body = list.json<AlertsBody>();
    expect(body.alerts.map((a) => [a.patientId, a.status]).sort()).toEqual([
      ['p-1', 'open'],
      ['p-2', 'open'],
    ]);
    expect(body.dismissReasons).toContain('measurement_error');
    const id = body.alerts.find((a) => a.patientId === 'p-1')!.alertId;
    const ack = await post(dashboard, `/api/alerts/${id}/acknowledge`, session, { by: 'nurse-17' });
    expect(ack.statusCode).toBe(200);
    expect(alerting!.engine.alert(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'nurse-17' });
    // A tool with a bearer token acts with its own token too.
    const other = body.alerts.find((a) => a.patientId === 'p-2')!.alertId;
    const dismissed = await post(dashboard, `/api/alerts/${other}/dismiss`, bearer(READ), { reason: 'measurement_error' });
    expect(dismissed.statusCode).toBe(200);
    expect(alerting!.engine.alert(other)).toBeUndefined();
    // A dismissed alert answers as the alerting service does: 409 with what it became.
    const again = await post(dashboard, `/api/alerts/${other}/acknowledge`, session);
    expect([again.statusCode, again.json<{ alertStatus: string }>().alertStatus]).toEqual([409, 'dismissed']);
  });

  it('the alerting service judges the scope: a ward token it does not know is refused there, and nothing changes', async () => {
    const { dashboard, alerting } = await setup({ dashboardTokens: `${READ},${OTHER_READ}`, alertingTokens: READ });
    const session = await cookie(dashboard, OTHER_READ);
    expect((await dashboard.app.inject({ url: '/api/alerts', headers: session })).statusCode).toBe(401);
    const id = alerting!.engine.openAlerts()[0]!.alertId;
    expect((await post(dashboard, `/api/alerts/${id}/acknowledge`, session)).statusCode).toBe(401);
    expect(alerting!.engine.alert(id)?.status).toBe('open');
  });

  it('refuses, without forwarding, a POST from another site, one that is not JSON, a reason off the list, and anyone not signed in', async () => {
    const { dashboard, alerting } = await setup();
    const session = await cookie(dashboard, READ);
    const id = alerting!.engine.openAlerts()[0]!.alertId;
    const url = `/api/alerts/${id}/dismiss`;
    expect((await post(dashboard, url, { ...session, 'sec-fetch-site': 'cross-site' }, { reason: 'already_managed' })).statusCode).toBe(403);
    // An older browser without Fetch Metadata: its Origin names the other site.
    const fromOrigin = await dashboard.app.inject({ method: 'POST', url, headers: { ...session, 'content-type': 'application/json', origin: 'https://evil.example' }, payload: '{"reason":"already_managed"}' });
    expect(fromOrigin.statusCode).toBe(403);
    const plain = await dashboard.app.inject({ method: 'POST', url, headers: { ...session, 'content-type': 'text/plain', 'sec-fetch-site': 'same-origin' }, payload: '{"reason":"already_managed"}' });
    expect(plain.statusCode).toBe(415);
    expect((await post(dashboard, url, session, { reason: 'because' })).statusCode).toBe(400);
    expect((await post(dashboard, url, {}, { reason: 'already_managed' })).statusCode).toBe(401);
    expect((await post(dashboard, '/api/alerts/not an id/dismiss', session, { reason: 'already_managed' })).statusCode).toBe(400);
    expect(alerting!.engine.alert(id)?.status).toBe('open');
  });

  it('says when there is no alerting service to ask: nothing to list (204) and 503 to act when none is configured, 502 when it does not answer', async () => {
    const none = createDashboardService({ config: loadConfig({ DASHBOARD_SERVICE_URLS: '', AUTH_READ_TOKENS: READ }), logger, bus: new MemoryBus() });
    cleanups.push(async () => {
      await none.app.close();
      await none.stop();
    });
    expect((await none.app.inject({ url: '/api/alerts', headers: bearer(READ) })).statusCode).toBe(204);
    const unconfigured = await post(none, '/api/alerts/a-1/acknowledge', bearer(READ));
    expect([unconfigured.statusCode, unconfigured.json<{ title: string }>().title]).toEqual([503, 'No alerting service']);
    const { dashboard } = await setup({ alerting: false });
    const down = await dashboard.app.inject({ url: '/api/alerts', headers: bearer(READ) });
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect([down.statusCode, down.json<{ type: string }>().type]).toEqual([502, 'tag:ehr-pipeline,2026:problem:alerting-unreachable']);
  });
});
