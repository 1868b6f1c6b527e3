// The page in a real browser: it signs in through the login form (an HttpOnly,
// SameSite=Strict cookie, never a token in the URL), loads, live updates arrive, a patient
// who crosses into "high" rises to the top with a visible alert, filters and the patient
// view work from the keyboard. A screenshot is kept in test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger, createMetricsRegistry, createServiceApp, Readiness } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';
import { launchChromium } from './browser.js';
import { scoreBytes, type ScoreSpec } from './fixtures.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const T0 = Date.parse('2026-03-01T08:00:00Z');
const READ_TOKEN = 'browser-read-token-0123456789abcdef0123';

/** 30 patients on two units: five medium, the rest low; p-12 is low with the smallest score. */
function ward(): ScoreSpec[] {
  return Array.from({ length: 30 }, (_, i) => ({
    patientId: `p-${String(i).padStart(2, '0')}`,
    t: T0,
    band: i < 5 ? 'medium' : 'low',
    probability: i < 5 ? 0.3 + i / 100 : i === 12 ? 0.01 : 0.05 + i / 1000,
    unit: i % 2 === 0 ? 'Ward A' : 'Ward B',
  }));
}

describe('ward dashboard in headless Chromium', () => {
  let browser: Browser;
  let service: DashboardService;
  let bus: MemoryBus;
  let url: string;
  let page: Page;
  let scoringStub: FastifyInstance;
  const pageErrors: string[] = [];

  const produce = (specs: ScoreSpec[]) => bus.produce(TOPICS.scores, specs.map((s) => ({ key: s.patientId, value: scoreBytes(s) })));
  const rowIds = () => page.$$eval('#rows [role="row"]:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.id));

  beforeAll(async () => {
    browser = await launchChromium();
    bus = new MemoryBus();
    const logger = createLogger({ service: 'dashboard', level: 'silent' });
    // A scoring service with no model (degraded) and a sink that is not there.
    scoringStub = createServiceApp({
      service: 'scoring',
      logger,
      metrics: createMetricsRegistry('scoring', { defaultMetrics: false }),
      readiness: new Readiness('scoring').register('model', () => ({ state: 'degraded', detail: 'no model loaded' }), { critical: false }),
    });
    await scoringStub.listen({ host: '127.0.0.1', port: 0 });
    const serviceHealthUrls = { scoring: `http://127.0.0.1:${(scoringStub.server.address() as { port: number }).port}`, sink: 'http://127.0.0.1:9' };
    service = createDashboardService({
      config: loadConfig({ DASHBOARD_PUSH_INTERVAL_MS: '100', DASHBOARD_HEALTH_INTERVAL_MS: '500', AUTH_READ_TOKENS: READ_TOKEN }),
      logger,
      bus,
      serviceHealthUrls,
    });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    await service.start();
    await produce(ward());
    for (const deadline = Date.now() + 10_000; service.ward.size < 30 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await service?.app.close();
    await scoringStub?.close();
  });

  it('signs in through the login form: a wrong token is refused, the right one sets an HttpOnly, SameSite=Strict cookie', async () => {
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', 'not-the-token-0123456789abcdef0123456789');
    await page.click('#sign-in');
    await page.waitForSelector('#login-error');
    expect(await page.textContent('#login-error')).toContain('not valid');
    await page.fill('#token', READ_TOKEN);
    await Promise.all([page.waitForURL(`${url}/`), page.click('#sign-in')]);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['ehr_session', true, 'Strict']]);
    expect(cookies[0]!.value).not.toContain(READ_TOKEN);
    expect(page.url()).not.toContain(READ_TOKEN);
    // Scripts on the page cannot read the session.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.waitForSelector('#sign-out:not([hidden])');
  });

  it('loads the ward: every patient is a row with its band, sorted by severity', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#rows [data-band]').length === 30);
    expect(await page.locator('body').getAttribute('data-connection')).toBe('live');
    const bands = await page.$$eval('#rows [role="row"]', (rows) => rows.map((r) => (r as HTMLElement).dataset.band));
    expect(bands.slice(0, 5)).toEqual(['medium', 'medium', 'medium', 'medium', 'medium']);
    expect(new Set(bands.slice(5))).toEqual(new Set(['low']));
    expect((await rowIds())[0]).toBe('p-04'); // the highest medium score
    expect(await page.textContent('#count-medium')).toBe('5');
    expect(await page.textContent('#model')).toContain('severity-rf 1.0.0');
    // Each service's health at a glance.
    await page.waitForSelector('#services [data-service="scoring"][data-state="degraded"]');
    await page.waitForSelector('#services [data-service="sink"][data-state="unreachable"]');
    expect(await page.getAttribute('#services [data-service="scoring"]', 'title')).toContain('no model loaded');
    // Sparklines are drawn for the score and the vitals.
    expect(await page.getAttribute('[data-id="p-04"] .c-num path', 'd')).toMatch(/^M/);
  });

  it('takes live updates, and a patient who crosses into high rises to the top with an alert', async () => {
    await produce([{ patientId: 'p-12', t: T0 + 60_000, band: 'medium', probability: 0.2, unit: 'Ward A', vitals: { heart_rate: 104 } }]);
    await page.waitForFunction(() => document.querySelector('[data-id="p-12"]')?.getAttribute('data-band') === 'medium');
    expect(await page.textContent('[data-id="p-12"] .c-vital .val')).toBe('104');

    await produce([{ patientId: 'p-12', t: T0 + 120_000, band: 'high', probability: 0.91, unit: 'Ward A', vitals: { heart_rate: 131, respiratory_rate: 27 } }]);
    await page.waitForFunction(() => document.querySelector('#rows [role="row"]')?.getAttribute('data-id') === 'p-12');
    const top = page.locator('#rows [role="row"]').first();
    expect(await top.getAttribute('data-band')).toBe('high');
    expect(await top.getAttribute('data-alert')).toBe('up');
    expect(await page.isVisible('#alerts')).toBe(true);
    expect(await page.textContent('#alerts')).toMatch(/p-12.*medium → high/);
    expect(await page.textContent('#count-high')).toBe('1');
    expect(await page.title()).toMatch(/^\(1\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-ward.png'), fullPage: false });
  });

  it('filters by unit and band', async () => {
    await page.selectOption('#unit-filter', 'Ward B');
    const ids = await rowIds();
    expect(ids).toHaveLength(15);
    expect(ids.every((id) => Number(id!.slice(2)) % 2 === 1)).toBe(true);
    await page.selectOption('#band-filter', 'medium');
    expect(await rowIds()).toEqual(['p-03', 'p-01']);
    await page.selectOption('#unit-filter', '');
    await page.selectOption('#band-filter', '');
    expect(await rowIds()).toHaveLength(30);
  });

  it('opens the patient view with its time series from the keyboard, and closes it with Escape', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Home');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('p-12');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('p-04');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden])');
    expect(await page.textContent('#detail-title')).toBe('Patient p-12');
    await page.waitForFunction(() => document.querySelectorAll('#detail-charts figure').length === 7);
    await page.waitForFunction(() => document.querySelectorAll('#detail-recent tr').length === 4); // header + 3 scores
    expect(await page.textContent('#detail-summary')).toContain('rose medium → high');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-patient.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail', { state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('p-12');
  });

  it('reads well on a wall screen and a small laptop', async () => {
    await page.setViewportSize({ width: 3840, height: 2160 });
    await page.click('#wall-toggle');
    expect(await page.getAttribute('#wall-toggle', 'aria-pressed')).toBe('true');
    const big = await page.$eval('.pid', (el) => parseFloat(getComputedStyle(el).fontSize));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-wall.png') });
    await page.click('#wall-toggle');
    await page.setViewportSize({ width: 1280, height: 800 });
    const small = await page.$eval('.pid', (el) => parseFloat(getComputedStyle(el).fontSize));
    expect(big).toBeGreaterThan(small * 1.5);
    // No horizontal scrolling on a laptop.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-laptop.png') });
  });

  it('signs out: the cookie is gone and the page asks for the token again', async () => {
    await Promise.all([page.waitForURL(`${url}/login`), page.click('#sign-out button')]);
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('raised no script errors', () => {
    // The failed sign-in answers 401, which the browser reports as a failed resource load.
    expect(pageErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});
