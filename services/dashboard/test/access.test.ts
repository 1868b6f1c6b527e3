// Who may see the ward: the page, /events and /api/* need the read scope, by bearer token
// or by the session cookie the login form sets (HttpOnly, SameSite=Strict); health,
// metrics and the form stay open. Without tokens it runs open on loopback only.
import { MemoryBus } from '@ehr/bus';
import { ConfigError, createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';

const logger = createLogger({ service: 'dashboard', level: 'silent' });
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const READ_NEXT = 'read-next-0123456789abcdef0123456789abcd';
const INGEST = 'ingest-0123456789abcdef0123456789abcdef';
const ADMIN = 'admin-0123456789abcdef0123456789abcdef012';
const TOKENS = { AUTH_READ_TOKENS: `${READ},${READ_NEXT}`, AUTH_INGEST_TOKENS: INGEST, AUTH_ADMIN_TOKENS: ADMIN };

const form = (token: string) => ({ 'content-type': 'application/x-www-form-urlencoded' as const, payload: new URLSearchParams({ token }).toString() });

describe('dashboard access', () => {
  const running: DashboardService[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.app.close();
      await s.stop();
    }
  });

  function service(env: Record<string, string> = TOKENS) {
    const s = createDashboardService({ config: loadConfig({ DASHBOARD_SERVICE_URLS: '', ...env }), logger, bus: new MemoryBus() });
    running.push(s);
    return s;
  }

  async function login(s: DashboardService, token: string, headers: Record<string, string> = {}) {
    const { payload, ...type } = form(token);
    return s.app.inject({ method: 'POST', url: '/login', payload, headers: { ...type, ...headers } });
  }

  it('sends a browser to the login form and answers tools 401 with WWW-Authenticate; health and metrics stay open', async () => {
    const s = service();
    const page = await s.app.inject({ url: '/', headers: { accept: 'text/html' } });
    expect([page.statusCode, page.headers.location]).toEqual([303, '/login']);
    for (const url of ['/api/ward', '/api/patients/p-1', '/api/services', '/api/session', '/events', '/app.js', '/index.html']) {
      const r = await s.app.inject(url);
      expect([url, r.statusCode]).toEqual([url, 401]);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="dashboard", scope="read"');
    }
    for (const url of ['/health/live', '/health/ready', '/metrics', '/login', '/style.css']) expect([url, (await s.app.inject(url)).statusCode]).not.toEqual([url, 401]);
    const form = await s.app.inject('/login');
    expect(form.headers['content-security-policy']).toContain("script-src 'self'");
    expect(form.body).toContain('<form method="post" action="/login">');
  });

  it('takes a read or admin bearer token, refuses another scope with 403', async () => {
    const s = service();
    for (const token of [READ, READ_NEXT, ADMIN]) expect((await s.app.inject({ url: '/api/ward', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/ward', headers: { authorization: `Bearer ${INGEST}` } })).statusCode).toBe(403);
    expect((await s.app.inject({ url: '/api/ward', headers: { authorization: 'Bearer wrong-0123456789abcdef0123456789abcdef' } })).headers['www-authenticate']).toContain('invalid_token');
  });

  it('signs a browser in with the login form: an HttpOnly, SameSite=Strict cookie, never the token itself', async () => {
    const s = service();
    const ok = await login(s, READ);
    expect([ok.statusCode, ok.headers.location]).toEqual([303, '/']);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^ehr_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(READ);
    const session = cookie.split(';')[0]!;
    expect((await s.app.inject({ url: '/api/ward', headers: { cookie: session } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/', headers: { cookie: session, accept: 'text/html' } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/session', headers: { cookie: session } })).json()).toMatchObject({ mode: 'token', via: 'cookie', scopes: ['read'] });
    expect((await s.app.inject({ url: '/login', headers: { cookie: session } })).headers.location).toBe('/');
    // An altered cookie opens nothing.
    const [name, value] = session.split('=');
    expect((await s.app.inject({ url: '/api/ward', headers: { cookie: `${name}=${value!.slice(0, -2)}xx` } })).statusCode).toBe(401);
    // Signing out clears it.
    const out = await s.app.inject({ method: 'POST', url: '/logout', headers: { cookie: session } });
    expect([out.statusCode, out.headers.location]).toEqual([303, '/login']);
    expect(String(out.headers['set-cookie'])).toMatch(/^ehr_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
  });

  it('refuses a wrong token, a token without the read scope, and a sign-in posted from another site', async () => {
    const s = service();
    const wrong = await login(s, 'wrong-0123456789abcdef0123456789abcdef');
    expect([wrong.statusCode, wrong.headers['set-cookie']]).toEqual([401, undefined]);
    expect(wrong.body).toContain('That token is not valid.');
    expect((await login(s, INGEST)).statusCode).toBe(403);
    const crossSite = await login(s, READ, { origin: 'https://attacker.example' });
    expect([crossSite.statusCode, crossSite.headers['set-cookie']]).toEqual([403, undefined]);
    expect((await login(s, READ, { origin: 'null' })).statusCode).toBe(403);
    expect((await login(s, READ, { 'sec-fetch-site': 'cross-site', origin: 'http://localhost' })).statusCode).toBe(403);
    expect((await login(s, READ, { origin: 'http://localhost:80' })).statusCode).toBe(303);
    expect((await login(s, READ, { 'sec-fetch-site': 'same-origin' })).statusCode).toBe(303);
  });

  it('ends the sessions of a token once it is removed from the configuration (rotation)', async () => {
    const session = String((await login(service(), READ)).headers['set-cookie']).split(';')[0]!;
    const rotated = service({ ...TOKENS, AUTH_READ_TOKENS: READ_NEXT });
    expect((await rotated.app.inject({ url: '/api/ward', headers: { cookie: session } })).statusCode).toBe(401);
    const kept = service();
    expect((await kept.app.inject({ url: '/api/ward', headers: { cookie: session } })).statusCode).toBe(200);
  });

  it('marks the cookie Secure when the page is served over HTTPS (here: behind a trusted proxy)', async () => {
    const s = service({ ...TOKENS, TRUST_PROXY: '127.0.0.1' });
    const ok = await login(s, READ, { 'x-forwarded-proto': 'https' });
    expect(String(ok.headers['set-cookie'])).toMatch(/; Secure;|; Secure$/);
  });

  it('runs open on loopback without tokens, and refuses to start elsewhere unless ALLOW_INSECURE=true', async () => {
    const s = service({});
    expect((await s.app.inject('/api/ward')).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/', headers: { accept: 'text/html' } })).statusCode).toBe(200);
    expect((await s.app.inject('/login')).headers.location).toBe('/');
    expect((await s.app.inject('/api/session')).json()).toMatchObject({ mode: 'open' });
    expect(() => service({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => service({ HOST: '0.0.0.0', ALLOW_INSECURE: 'true' })).not.toThrow();
  });
});
