import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator, createLogger, createMetricsRegistry, createServiceApp, Readiness, sendProblem, specMismatches } from '../src/index.js';

function build(options: { http?: { ALLOWED_HOSTS?: string } } = {}) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ service: 'svc', destination, level: 'debug' });
  const app = createServiceApp({ service: 'svc', logger, metrics: createMetricsRegistry('svc', { defaultMetrics: false }), readiness: new Readiness('svc'), bodyLimit: 100, ...options });
  return { app, lines };
}

const PROBLEM = 'application/problem+json; charset=utf-8';
const FHIR = 'application/fhir+json; charset=utf-8';

describe('errors as problems (RFC 9457)', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  const make = (options: Parameters<typeof build>[0] = {}) => {
    const built = build(options);
    apps.push(built.app);
    built.app.after(() => {
      built.app.post('/things', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true }));
      built.app.get('/boom', async () => {
        throw new Error('secret internals');
      });
      built.app.get('/conflict', async () => {
        throw Object.assign(new Error('already done'), { statusCode: 409 });
      });
      built.app.get('/fhir/Thing', async (_request, reply) => sendProblem(reply, 400, { detail: 'subject is required' }));
    });
    return built;
  };

  it('answers an unknown path 404 and a known path with another method 405 with Allow', async () => {
    const { app, lines } = make();
    const missing = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect([missing.statusCode, missing.headers['content-type']]).toEqual([404, PROBLEM]);
    expect(missing.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no route for GET /nowhere', instance: '/nowhere' });
    const wrongMethod = await app.inject({ method: 'DELETE', url: '/things' });
    expect([wrongMethod.statusCode, wrongMethod.headers.allow, wrongMethod.headers['content-type']]).toEqual([405, 'POST', PROBLEM]);
    // The path may carry a patient id: the log line names neither it nor the detail quoting it.
    await expect.poll(() => lines.filter((l) => l.msg === 'request refused').length).toBe(2);
    const logged = lines.filter((l) => l.msg === 'request refused');
    expect(logged.map((l) => [l.status, l.route, l.level])).toEqual([[404, 'unmatched', 'warn'], [405, 'unmatched', 'warn']]);
    expect(JSON.stringify(logged)).not.toContain('nowhere');
  });

  it('answers what Fastify refuses (bad JSON, too large, wrong type, schema) as problems, logged at warn without a stack', async () => {
    const { app, lines } = make();
    const post = (payload: string, type = 'application/json') => app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': type } });
    const badJson = await post('{"name":');
    expect([badJson.statusCode, badJson.headers['content-type'], badJson.json().type]).toEqual([400, PROBLEM, 'tag:ehr-pipeline,2026:problem:invalid-json']);
    const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(200) }));
    expect([tooLarge.statusCode, tooLarge.json().type]).toEqual([413, 'tag:ehr-pipeline,2026:problem:body-too-large']);
    const wrongType = await post('name=x', 'text/csv');
    expect([wrongType.statusCode, wrongType.json().type]).toEqual([415, 'tag:ehr-pipeline,2026:problem:unsupported-media-type']);
    const invalid = await post('{"nom":"x"}');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:invalid-request', status: 400, errors: [{ path: 'body', message: "must have required property 'name'" }] });

    const refused = lines.filter((l) => l.msg === 'request refused');
    expect(refused.map((l) => l.status)).toEqual([400, 413, 415, 400]);
    expect(refused.every((l) => l.level === 'warn' && l.err === undefined)).toBe(true);
    expect(refused[0]!.problem).toEqual({ type: 'tag:ehr-pipeline,2026:problem:invalid-json', title: 'The body is not valid JSON' });
    expect(lines.some((l) => l.level === 'error')).toBe(false);
  });

  it('hides a crash from the client and logs it at error with its stack; a thrown 4xx keeps its message', async () => {
    const { app, lines } = make();
    const crash = await app.inject({ method: 'GET', url: '/boom' });
    expect([crash.statusCode, crash.headers['content-type']]).toEqual([500, PROBLEM]);
    expect(crash.body).not.toContain('secret internals');
    const logged = lines.find((l) => l.msg === 'request error') as { level: string; err: { stack: string } };
    expect(logged.level).toBe('error');
    expect(logged.err.stack).toContain('secret internals');
    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.json()).toMatchObject({ status: 409, title: 'Conflict', detail: 'already done' });
  });

  it('refuses a Host it does not answer to with a 421 problem', async () => {
    const { app } = make({ http: { ALLOWED_HOSTS: 'ward.example.org' } });
    const r = await app.inject({ method: 'GET', url: '/health/live', headers: { host: 'evil.example.com' } });
    expect([r.statusCode, r.headers['content-type'], r.json().type]).toEqual([421, PROBLEM, 'tag:ehr-pipeline,2026:problem:misdirected-request']);
  });

  it('answers FHIR OperationOutcomes under /fhir: unknown paths, other methods, route errors and refused tokens', async () => {
    const { app } = make();
    const auth = new Authenticator({ ALLOW_INSECURE: false, AUTH_READ_TOKENS: 'read-token-0123456789abcdef0123456789abcd' }, { service: 'svc', host: '127.0.0.1', logger: createLogger({ service: 'svc', level: 'silent' }), doors: ['read'] });
    app.after(() => app.get('/fhir/Secret', { onRequest: auth.require('read') }, async () => ({})));
    const unknown = await app.inject({ method: 'GET', url: '/fhir/Nothing/1' });
    expect([unknown.statusCode, unknown.headers['content-type']]).toEqual([404, FHIR]);
    expect(unknown.json()).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'Not Found: no route for GET /fhir/Nothing/1' }] });
    const wrongMethod = await app.inject({ method: 'POST', url: '/fhir/Thing', payload: {} });
    expect([wrongMethod.statusCode, wrongMethod.headers.allow, wrongMethod.json().issue[0].code]).toEqual([405, 'GET, HEAD', 'not-supported']);
    const own = await app.inject({ method: 'GET', url: '/fhir/Thing' });
    expect([own.statusCode, own.headers['content-type'], own.json().issue[0].diagnostics]).toEqual([400, FHIR, 'Bad Request: subject is required']);
    const refused = await app.inject({ method: 'GET', url: '/fhir/Secret' });
    expect([refused.statusCode, refused.headers['content-type'], refused.json().issue[0].code]).toEqual([401, FHIR, 'login']);
  });
});

describe('OpenAPI and the reference page', () => {
  it('documents every route added after it, with the problems any route can answer', async () => {
    const { app } = build();
    app.after(() => app.post('/things', { schema: { summary: 'things', security: [{ bearer: [] }] } }, async () => ({})));
    await app.ready();
    expect(await specMismatches(app)).toEqual({ undocumented: [], phantom: [] });
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths).sort()).toEqual(['/health/live', '/health/ready', '/metrics', '/openapi.json', '/things']);
    const responses = spec.paths['/things'].post.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '400', '401', '403', '413', '415', '421', '500']);
    expect(Object.keys(responses['401'].content)).toEqual(['application/problem+json']);
    await app.close();
  });

  it('finds a route the document misses (added before the generator loaded)', async () => {
    const { app } = build();
    app.get('/early', async () => ({}));
    await app.ready();
    expect((await specMismatches(app)).undocumented).toEqual(['GET /early']);
    await app.close();
  });

  it('serves the reference page and its assets from the package (no network)', async () => {
    const { app } = build();
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect([page.statusCode, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(page.body).not.toMatch(/https?:\/\/(?!localhost)[a-z]/i);
    await app.close();
  });
});
