// Scoring's doors: POST /score takes a patient's data and shows a score (the read scope);
// POST /model/reload needs an admin token. A process whose admin token breaks its rule
// says so in one line, without the token and without a stack trace.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryBus } from '@ehr/bus';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createScoringService, loadConfig } from '../src/index.js';
import { snapshotFeatures } from './fixtures.js';

const logger = createLogger({ service: 'scoring', level: 'silent' });
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const INGEST = 'ingest-0123456789abcdef0123456789abcdef';
const ADMIN = 'admin-0123456789abcdef0123456789abcdef012';

describe('scoring doors', () => {
  const running: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of running.splice(0)) await stop();
  });

  async function started(env: Record<string, string>) {
    const service = createScoringService({ config: loadConfig({ MODEL_PATH: '/nonexistent/model.json', MODEL_WATCH: 'false', ...env }), logger, bus: new MemoryBus() });
    await service.start();
    running.push(async () => {
      await service.app.close();
      await service.stop();
    });
    return service;
  }

  it('POST /score needs a read (or admin) token once tokens are configured', async () => {
    const service = await started({ AUTH_READ_TOKENS: READ, AUTH_INGEST_TOKENS: INGEST, AUTH_ADMIN_TOKENS: ADMIN });
    const score = (token?: string) =>
      service.app.inject({ method: 'POST', url: '/score', payload: { features: snapshotFeatures(1, false) }, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const none = await score();
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="scoring", scope="read"');
    expect((await score(INGEST)).statusCode).toBe(403);
    expect((await score(READ)).statusCode).toBe(200);
    expect((await score(ADMIN)).statusCode).toBe(200);
    expect((await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${READ}` } })).statusCode).toBe(403);
    expect((await service.app.inject('/model')).statusCode).toBe(200);
  });

  it('POST /score is open on loopback without AUTH_* tokens, even with SCORING_ADMIN_TOKEN set', async () => {
    const service = await started({ SCORING_ADMIN_TOKEN: ADMIN });
    const res = await service.app.inject({ method: 'POST', url: '/score', payload: { features: snapshotFeatures(2, false) } });
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('scoring process with a bad admin token', () => {
  it('exits 1 naming SCORING_ADMIN_TOKEN and its rule, never printing the token or a stack trace', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: 'hunter2-short' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    const out = `${r.stdout}${r.stderr}`;
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toMatch(/SCORING_ADMIN_TOKEN: Expected string length greater or equal to 16 \(value not shown: it is a secret\)/);
    expect(out).not.toContain('hunter2');
    expect(out).not.toMatch(/\bat .*\.js:\d+/);
  });
});
