// Who may ingest: a bearer token with the ingest scope (or admin), checked before the body
// is read; open only on loopback without tokens; refused at startup elsewhere.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryBus } from '@ehr/bus';
import { ConfigError } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createProducerService, loadConfig } from '../src/index.js';
import { drain, heartRate, logger, startProducer } from './helpers.js';

const INGEST = 'ingest-0123456789abcdef0123456789abcdef';
const INGEST_NEXT = 'ingest-next-0123456789abcdef0123456789ab';
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const ADMIN = 'admin-0123456789abcdef0123456789abcdef012';
const TOKENS = { AUTH_INGEST_TOKENS: `${INGEST},${INGEST_NEXT}`, AUTH_READ_TOKENS: READ, AUTH_ADMIN_TOKENS: ADMIN };

const event = (id: string) => heartRate(id);

describe('producer authentication', () => {
  const running: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of running.splice(0)) await stop();
  });

  async function started(env: Record<string, string>) {
    const producer = await startProducer(env);
    running.push(producer.stop);
    return producer;
  }

  it('needs an ingest (or admin) token on /events and /fhir, answering 401 with WWW-Authenticate, 403 for another scope', async () => {
    const { bus, service } = await started({ ...TOKENS, HOST: '0.0.0.0' });
    const post = (url: string, token?: string, id = 'e-0') =>
      service.app.inject({ method: 'POST', url, payload: url === '/events' ? [event(id)] : {}, headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (const url of ['/events', '/fhir/Observation', '/fhir']) {
      const none = await post(url);
      expect([url, none.statusCode]).toEqual([url, 401]);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="producer", scope="ingest"');
      expect((await post(url, 'not-a-token-0123456789abcdef0123456789')).statusCode).toBe(401);
      expect((await post(url, READ)).statusCode).toBe(403);
    }
    for (const [i, token] of [INGEST, INGEST_NEXT, ADMIN].entries()) expect((await post('/events', token, `e-${i + 1}`)).statusCode).toBe(202);
    expect((await drain(bus, 3)).map((r) => r.event.eventId).sort()).toEqual(['e-1', 'e-2', 'e-3']);
    // Health, metrics and the API description stay open (no patient data).
    for (const url of ['/health/ready', '/metrics', '/openapi.json']) expect((await service.app.inject(url)).statusCode).toBe(200);
  });

  it('refuses a stranger before reading the body', async () => {
    const { service } = await started({ ...TOKENS, PRODUCER_BODY_LIMIT_BYTES: '2048' });
    const big = await service.app.inject({ method: 'POST', url: '/events', payload: [{ ...event('big'), pad: 'x'.repeat(10_000) }] });
    expect(big.statusCode).toBe(401);
  });

  it('runs open on loopback without tokens', async () => {
    const { service } = await started({});
    expect((await service.app.inject({ method: 'POST', url: '/events', payload: [event('open-1')] })).statusCode).toBe(202);
  });

  it('will not start off loopback without tokens unless ALLOW_INSECURE=true', () => {
    expect(() => createProducerService({ config: loadConfig({ HOST: '0.0.0.0' }), logger, bus: new MemoryBus() })).toThrow(ConfigError);
    expect(() => createProducerService({ config: loadConfig({ HOST: '0.0.0.0', ALLOW_INSECURE: 'true' }), logger, bus: new MemoryBus() })).not.toThrow();
  });
});

describe('producer process that cannot start', () => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, encoding: 'utf8', timeout: 20_000 });

  it('off loopback without tokens: exits 1 with one line naming the variables and ALLOW_INSECURE, no stack trace', () => {
    const r = run({ HOST: '0.0.0.0' });
    expect(r.status).toBe(1);
    const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'fatal', service: 'producer', problems: [{ variable: 'AUTH_INGEST_TOKENS' }] });
    expect(line.msg).toMatch(/HOST=0\.0\.0\.0 is not a loopback address.*ALLOW_INSECURE=true/);
    expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('a malformed token: names the variable and the rule, never the value', () => {
    const r = run({ AUTH_INGEST_TOKENS: 'my-short-secret-token' });
    expect(r.status).toBe(1);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('AUTH_INGEST_TOKENS: must be comma-separated tokens of at least 32 printable characters');
    expect(out).not.toContain('my-short-secret-token');
    expect(out).not.toMatch(/\bat .*\.js:\d+/);
  });
});
