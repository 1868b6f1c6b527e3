import { describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry, createServiceApp, HostAllowList, hostnameOf, isLoopbackHost, Readiness } from '../src/index.js';

const build = (allowed?: string) =>
  createServiceApp({
    service: 'svc',
    logger: createLogger({ service: 'svc', level: 'silent' }),
    metrics: createMetricsRegistry('svc', { defaultMetrics: false }),
    readiness: new Readiness('svc'),
    ...(allowed !== undefined ? { http: { ALLOWED_HOSTS: allowed } } : {}),
  });

describe('host allow-list', () => {
  it('answers 421 to a Host it does not know (DNS rebinding), on every route', async () => {
    const app = build();
    app.get('/api/ward', async () => ({ patients: [] }));
    for (const url of ['/api/ward', '/health/ready', '/metrics', '/nowhere']) {
      const r = await app.inject({ url, headers: { host: 'attacker.example:3000' } });
      expect([url, r.statusCode]).toEqual([url, 421]);
    }
    expect((await app.inject({ url: '/api/ward', headers: { host: 'localhost:3000' } })).statusCode).toBe(200);
    await app.close();
  });

  it('accepts loopback names and IP addresses by default, and the names it is given', async () => {
    const app = build('dashboard, .ward.example.org');
    const status = async (host: string) => (await app.inject({ url: '/health/live', headers: { host } })).statusCode;
    for (const host of ['localhost:3000', 'app.localhost', '127.0.0.1:3001', '[::1]:3000', '10.1.2.3', 'dashboard:3000', 'DASHBOARD', 'ward.example.org', 'a.ward.example.org:443']) {
      expect([host, await status(host)]).toEqual([host, 200]);
    }
    for (const host of ['dashboard.evil.example', 'evilward.example.org', 'localhost.evil.example', 'example.org', '[::1', 'a b']) {
      expect([host, await status(host)]).toEqual([host, 421]);
    }
    await app.close();
  });

  it('reads Host names and loopback addresses', () => {
    expect(hostnameOf('Example.ORG.:8080')).toBe('example.org');
    expect(hostnameOf('[::1]:3000')).toBe('::1');
    expect(hostnameOf('bad_name')).toBeNull();
    expect(new HostAllowList(['.example.org']).allows('x.example.org')).toBe(true);
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.org'].some(isLoopbackHost)).toBe(false);
  });
});
