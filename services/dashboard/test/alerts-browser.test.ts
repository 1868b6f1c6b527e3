// The acknowledge flow in a real browser, against a real alerting service (mirrors
// browser.test.ts): sign in through the form, see the ward's open alerts, see an unacknowledged
// high alert escalate (marked apart), acknowledge one alert and dismiss another with a reason
// from the list; each leaves the list to act on, and the alerting service has recorded it (its
// state, and the event on ehr.alerts.v1 with who and how long it took). Screenshot in test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBroker, MemoryBus, type Subscription } from '@ehr/bus';
import { decodeAlertEvent, TOPICS, type AlertEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';
import { startAlerting, type TestAlerting } from './alerting.js';
import { launchChromium } from './browser.js';
import { scoreBytes } from './fixtures.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const T0 = Date.parse('2026-03-01T08:00:00Z');
const MIN = 60_000;
const READ_TOKEN = 'browser-read-token-0123456789abcdef0123';

describe('ward alerts in headless Chromium: acknowledge and dismiss', () => {
  let browser: Browser;
  let dashboard: DashboardService;
  let alerting: TestAlerting;
  let watcher: Subscription;
  let page: Page;
  let url: string;
  const events: AlertEvent[] = [];
  const pageErrors: string[] = [];
  const alertOf = (patientId: string) => alerting.engine.openAlerts().find((a) => a.patientId === patientId)!;
  const item = (list: 'open-alerts' | 'acked-alerts', alertId: string) => `#${list} li[data-alert-id="${alertId}"]`;

  beforeAll(async () => {
    browser = await launchChromium();
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    alerting = await startAlerting(broker, { AUTH_READ_TOKENS: READ_TOKEN, KAFKA_TOPIC_PARTITIONS: '1' }, T0);
    watcher = await new MemoryBus({ broker }).subscribe({
      groupId: 'test-watch-alerts',
      topics: [TOPICS.alerts],
      handler: async ({ records }) => {
        for (const r of records) {
          const e = decodeAlertEvent(r.value);
          if (e.ok) events.push(e.value);
        }
      },
    });
    dashboard = createDashboardService({
      config: loadConfig({ DASHBOARD_PUSH_INTERVAL_MS: '100', AUTH_READ_TOKENS: READ_TOKEN }),
      logger: createLogger({ service: 'dashboard', level: 'silent' }),
      bus: new MemoryBus({ broker }),
      serviceHealthUrls: { alerting: alerting.url },
    });
    await dashboard.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(dashboard.app.server.address() as { port: number }).port}`;
    await dashboard.start();
    // p-01 high (escalates after 30 min unacknowledged), p-02 medium (never escalates), p-03 low (no alert).
    await new MemoryBus({ broker }).produce(
      TOPICS.scores,
      [
        { patientId: 'p-01', band: 'high' as const, probability: 0.9 },
        { patientId: 'p-02', band: 'medium' as const, probability: 0.6 },
        { patientId: 'p-03', band: 'low' as const, probability: 0.1 },
      ].map((s) => ({ key: s.patientId, value: scoreBytes({ ...s, t: T0, unit: 'Ward A' }) })),
    );
    for (const deadline = Date.now() + 10_000; alerting.engine.openAlerts().length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await watcher?.stop();
    await dashboard?.stop();
    await dashboard?.app.close();
    await alerting?.close();
  });

  it('signs in and shows the open alerts from the alerting service', async () => {
    await page.goto(url);
    await page.fill('#token', READ_TOKEN);
    await Promise.all([page.waitForURL(`${url}/`), page.click('#sign-in')]);
    await page.waitForSelector('#ward-alerts:not([hidden])');
    await page.waitForSelector(item('open-alerts', alertOf('p-01').alertId));
    await page.waitForSelector(item('open-alerts', alertOf('p-02').alertId));
    expect(await page.$$eval('#open-alerts li', (lis) => lis.map((li) => (li as HTMLElement).dataset.severity))).toEqual(['high', 'medium']);
    expect(await page.textContent('#open-count')).toBe('2');
    // The reasons a clinician picks from, in words.
    const reasons = await page.$$eval(`${item('open-alerts', alertOf('p-02').alertId)} select option`, (os) => os.map((o) => o.textContent));
    expect(reasons).toEqual(expect.arrayContaining(['Clinically reviewed, no action needed', 'Known / expected for this patient', 'Artefact / erroneous data', 'Already escalated / being managed']));
  });

  it('shows an alert nobody acknowledged within 30 min as escalated, apart from the others', async () => {
    const id = alertOf('p-01').alertId;
    alerting.clock.set(T0 + 31 * MIN);
    await alerting.tick();
    expect(alertOf('p-01').status).toBe('escalated');
    await page.waitForSelector(`${item('open-alerts', id)}[data-status="escalated"]`, { timeout: 15_000 });
    expect(await page.textContent(`${item('open-alerts', id)} .wa-escalated`)).toContain('Escalated');
    expect(await page.$eval('#open-alerts li', (li) => (li as HTMLElement).dataset.status)).toBe('escalated');
    expect(await page.getAttribute('#ward-alerts', 'data-escalated')).toBe('true');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alerts.png') });
  });

  it('acknowledges an alert: it leaves the list to act on, and the alerting service records who and how fast', async () => {
    const id = alertOf('p-02').alertId;
    await page.fill('#staff-id', 'nurse-17');
    await page.click(`${item('open-alerts', id)} .wa-ack`);
    await page.waitForSelector(item('open-alerts', id), { state: 'detached' });
    await page.waitForSelector(item('acked-alerts', id), { state: 'attached' });
    expect(await page.textContent('#open-count')).toBe('1');
    expect(alerting.engine.alert(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'nurse-17' });
    await expect.poll(() => events.find((e) => e.payload.alertId === id && e.payload.type === 'acknowledged')?.payload).toMatchObject({ actor: 'nurse-17', secondsToAcknowledge: 31 * 60 });
  });

  it('dismisses the escalated alert with a reason from the list: it leaves the list and the reason is recorded', async () => {
    const id = alertOf('p-01').alertId;
    const dismiss = `${item('open-alerts', id)} .wa-dismiss`;
    expect(await page.isDisabled(dismiss)).toBe(true); // no reason chosen yet
    await page.selectOption(`${item('open-alerts', id)} select`, { label: 'Artefact / erroneous data' });
    await page.click(dismiss);
    await page.waitForSelector(item('open-alerts', id), { state: 'detached' });
    expect(await page.textContent('#open-count')).toBe('0');
    expect(alerting.engine.alert(id)).toBeUndefined();
    await expect.poll(() => events.find((e) => e.payload.alertId === id && e.payload.type === 'dismissed')?.payload).toMatchObject({ dismissReason: 'measurement_error', actor: 'nurse-17' });
    expect(await page.textContent('#ward-alerts-status')).toContain('Dismissed the alert for p-01');
  });

  it('raised no script errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
