import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator, ConfigError, createLogger, createMetricsRegistry, createServiceApp, Readiness, type AuthConfig, type Scope } from '../src/index.js';

const INGEST = 'ingest-token-0123456789abcdef0123456789';
const INGEST_NEXT = 'ingest-token-next-0123456789abcdef01234';
const READ = 'read-token-0123456789abcdef0123456789abcd';
const ADMIN = 'admin-token-0123456789abcdef0123456789ab';

function logs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', destination }) };
}

const config = (over: Partial<AuthConfig> = {}): AuthConfig => ({ ALLOW_INSECURE: false, ...over });

describe('bearer tokens', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  function door(auth: Authenticator, scope: Scope) {
    const app = createServiceApp({ service: 'svc', logger: createLogger({ service: 'svc', level: 'silent' }), metrics: createMetricsRegistry('svc', { defaultMetrics: false }), readiness: new Readiness('svc') });
    app.post('/door', { onRequest: auth.require(scope) }, async () => ({ ok: true }));
    apps.push(app);
    return (token?: string) => app.inject({ method: 'POST', url: '/door', payload: {}, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  it('lets in every token of the scope (rotation) and admin tokens, and answers 401 with WWW-Authenticate otherwise', async () => {
    const { logger } = logs();
    const auth = new Authenticator(config({ AUTH_INGEST_TOKENS: `${INGEST}, ${INGEST_NEXT}`, AUTH_READ_TOKENS: READ, AUTH_ADMIN_TOKENS: ADMIN }), { service: 'producer', host: '0.0.0.0', logger, doors: ['ingest'] });
    const call = door(auth, 'ingest');
    for (const token of [INGEST, INGEST_NEXT, ADMIN]) expect((await call(token)).statusCode).toBe(200);

    const missing = await call();
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="producer", scope="ingest"');
    expect(missing.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(missing.json()).toEqual({
      type: 'tag:ehr-pipeline,2026:problem:token-required',
      title: 'A bearer token is required',
      status: 401,
      detail: 'a bearer token with the ingest scope is required (Authorization: Bearer <token>)',
      instance: '/door',
      scope: 'ingest',
    });
    const wrong = await call(`${INGEST}x`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    const otherScope = await call(READ);
    expect(otherScope.statusCode).toBe(403);
    expect(otherScope.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(otherScope.json()).toMatchObject({ status: 403, type: 'tag:ehr-pipeline,2026:problem:insufficient-scope' });
    expect(auth.open).toBe(false);
  });

  it('runs open on loopback without tokens, and says so', async () => {
    const { lines, logger } = logs();
    const auth = new Authenticator(config(), { service: 'producer', host: '127.0.0.1', logger, doors: ['ingest'] });
    expect(auth.open).toBe(true);
    expect((await door(auth, 'ingest')()).statusCode).toBe(200);
    expect(lines.join('')).toMatch(/producer runs open on loopback \(no AUTH_INGEST_TOKENS set\)/);
  });

  it('never opens an admin door without an admin token', async () => {
    const { logger } = logs();
    const open = new Authenticator(config(), { service: 'scoring', host: '127.0.0.1', logger, doors: ['read', 'admin'], adminVariables: ['AUTH_ADMIN_TOKENS', 'SCORING_ADMIN_TOKEN'] });
    const closed = await door(open, 'admin')(ADMIN);
    expect(closed.statusCode).toBe(403);
    expect(closed.headers['content-type']).toContain('application/problem+json');
    expect(closed.json()).toMatchObject({ status: 403, type: 'tag:ehr-pipeline,2026:problem:door-closed', detail: expect.stringContaining('SCORING_ADMIN_TOKEN') });
    const legacy = new Authenticator(config(), { service: 'scoring', host: '127.0.0.1', logger, doors: ['read', 'admin'], extraAdminTokens: [ADMIN] });
    expect(legacy.open).toBe(true);
    expect((await door(legacy, 'admin')(ADMIN)).statusCode).toBe(200);
    expect((await door(legacy, 'admin')()).statusCode).toBe(401);
  });

  it('refuses to start off loopback without tokens, naming the variables, unless ALLOW_INSECURE=true', () => {
    const { lines, logger } = logs();
    let error: unknown;
    try {
      new Authenticator(config(), { service: 'dashboard', host: '0.0.0.0', logger, doors: ['read'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/AUTH_READ_TOKENS: is required: HOST=0\.0\.0\.0 is not a loopback address.*ALLOW_INSECURE=true/);
    const insecure = new Authenticator(config({ ALLOW_INSECURE: true }), { service: 'dashboard', host: '0.0.0.0', logger, doors: ['read'] });
    expect(insecure.open).toBe(true);
    expect(lines.join('')).toContain('ALLOW_INSECURE=true: dashboard runs its doors open on 0.0.0.0');
  });

  it('seals values to the token that issued them: altered, forged or revoked, they no longer open', () => {
    const { logger } = logs();
    const options = { service: 'dashboard', host: '127.0.0.1', logger, doors: ['read'] as Scope[] };
    const auth = new Authenticator(config({ AUTH_READ_TOKENS: `${READ},${INGEST_NEXT}` }), options);
    const credential = auth.verify(READ)!;
    const sealed = auth.seal(credential, '{"exp":1}');
    expect(auth.unseal(sealed)).toEqual({ credential: { id: credential.id, scopes: new Set(['read']) }, data: '{"exp":1}' });
    const [id, data, mac] = sealed.split('.');
    expect(auth.unseal(`${id}.${Buffer.from('{"exp":9}').toString('base64url')}.${mac}`)).toBeNull();
    expect(auth.unseal(`${id}.${data}.${Buffer.alloc(32).toString('base64url')}`)).toBeNull();
    const rotated = new Authenticator(config({ AUTH_READ_TOKENS: INGEST_NEXT }), options);
    expect(rotated.unseal(sealed)).toBeNull();
    expect(JSON.stringify(credential)).not.toContain(READ);
  });

  it('gives back the token behind a credential (to act for its holder at another service), and nothing for one it does not know', () => {
    const { logger } = logs();
    const options = { service: 'dashboard', host: '127.0.0.1', logger, doors: ['read'] as Scope[] };
    const auth = new Authenticator(config({ AUTH_READ_TOKENS: `${READ},${INGEST_NEXT}` }), options);
    expect(auth.tokenOf(auth.verify(READ)!)).toBe(READ);
    expect(auth.tokenOf(auth.verify(INGEST_NEXT)!)).toBe(INGEST_NEXT);
    const rotated = new Authenticator(config({ AUTH_READ_TOKENS: INGEST_NEXT }), options);
    expect(rotated.tokenOf(auth.verify(READ)!)).toBeNull();
  });
});
