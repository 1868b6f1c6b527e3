// Open alerts name patients: /alerts and its acknowledge and dismiss need the read scope;
// the policy, health and metrics stay open; without tokens the doors are open on loopback only.
import { MemoryBus } from '@ehr/bus';
import { ConfigError, createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertingService, loadConfig } from '../src/index.js';

const logger = createLogger({ service: 'alerting', level: 'silent' });
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const INGEST = 'ingest-0123456789abcdef0123456789abcdef';
const ALERT_ID = 'a'.repeat(32);

describe('alerting doors', () => {
  const running: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of running.splice(0)) await stop();
  });

  function service(env: Record<string, string>) {
    const s = createAlertingService({ config: loadConfig(env), logger, bus: new MemoryBus(), manualClock: true });
    running.push(() => s.app.close());
    return s;
  }

  it('needs a read (or admin) token on /alerts, acknowledge and dismiss once tokens are configured', async () => {
    const s = service({ AUTH_READ_TOKENS: READ, AUTH_INGEST_TOKENS: INGEST });
    const call = (method: 'GET' | 'POST', url: string, token?: string) =>
      s.app.inject({ method, url, ...(method === 'POST' ? { payload: { reason: 'not_clinically_relevant' } } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (const [method, url] of [['GET', '/alerts'], ['GET', `/alerts/${ALERT_ID}`], ['POST', `/alerts/${ALERT_ID}/acknowledge`], ['POST', `/alerts/${ALERT_ID}/dismiss`]] as const) {
      const none = await call(method, url);
      expect([url, none.statusCode, none.headers['www-authenticate']]).toEqual([url, 401, 'Bearer realm="alerting", scope="read"']);
      expect([url, (await call(method, url, INGEST)).statusCode]).toEqual([url, 403]);
      expect([url, (await call(method, url, READ)).statusCode]).not.toEqual([url, 401]);
    }
    for (const url of ['/policy', '/health/live', '/metrics']) expect([url, (await s.app.inject(url)).statusCode]).toEqual([url, 200]);
  });

  it('is open on loopback without tokens, and refuses to start elsewhere unless ALLOW_INSECURE=true', async () => {
    expect((await service({}).app.inject(`/alerts/${ALERT_ID}`)).statusCode).toBe(404);
    expect(() => service({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => service({ HOST: '0.0.0.0', ALLOW_INSECURE: 'true' })).not.toThrow();
  });
});
