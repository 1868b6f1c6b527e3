import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, createLogger, createMetricsRegistry, createServiceApp, Readiness } from '../src/index.js';

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

describe('service app', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  function build(readiness = new Readiness('svc')) {
    const logger = createLogger({ service: 'svc', level: 'silent' });
    const metrics = createMetricsRegistry('svc', { defaultMetrics: false });
    const app = createServiceApp({ service: 'svc', logger, metrics, readiness });
    apps.push(app);
    return { app, metrics };
  }

  it('answers liveness without checking anything', async () => {
    const r = await build().app.inject({ method: 'GET', url: '/health/live' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'live', service: 'svc' });
  });

  it('is ready, degraded or not ready according to its dependencies', async () => {
    const readiness = new Readiness('svc');
    const setBus = readiness.track('bus', { state: 'down', detail: 'connecting' });
    const setModel = readiness.track('model', { state: 'up' }, { critical: false });
    const { app } = build(readiness);

    let r = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({
      status: 'not_ready',
      service: 'svc',
      dependencies: { bus: { state: 'down', detail: 'connecting', critical: true }, model: { state: 'up', critical: false } },
    });

    setBus({ state: 'up' });
    r = await app.inject({ method: 'GET', url: '/health/ready' });
    expect([r.statusCode, r.json().status]).toEqual([200, 'ready']);

    setModel({ state: 'down', detail: 'no model: scoring with NEWS2 only' });
    r = await app.inject({ method: 'GET', url: '/health/ready' });
    expect([r.statusCode, r.json().status]).toEqual([200, 'degraded']);
  });

  it('turns a throwing check into a down dependency', async () => {
    const readiness = new Readiness('svc').register('warehouse', () => {
      throw new Error('connection refused');
    });
    const r = await build(readiness).app.inject({ method: 'GET', url: '/health/ready' });
    expect(r.statusCode).toBe(503);
    expect(r.json().dependencies.warehouse).toEqual({ state: 'down', detail: 'connection refused', critical: true });
  });

  it('refuses a query parameter or body field a closed schema does not list (400 naming it), instead of dropping it', async () => {
    const { app } = build();
    const closed = { type: 'object', properties: { severity: { type: 'string' }, limit: { type: 'integer' } }, additionalProperties: false } as const;
    app.get('/items', { schema: { querystring: closed } }, async (request) => ({ query: request.query }));
    app.post('/items', { schema: { body: closed } }, async (request) => ({ body: request.body }));
    // What a ward filter typo did: answered 200 with the whole, unfiltered list.
    const typo = await app.inject({ method: 'GET', url: '/items?sevrity=high' });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().detail).toContain('sevrity');
    const body = await app.inject({ method: 'POST', url: '/items', payload: { severity: 'high', limt: 5 } });
    expect(body.statusCode).toBe(400);
    expect(body.json().detail).toContain('limt');
    // Listed parameters still work, query strings still coerced to the schema's types.
    const fine = await app.inject({ method: 'GET', url: '/items?severity=high&limit=5' });
    expect([fine.statusCode, fine.json()]).toEqual([200, { query: { severity: 'high', limit: 5 } }]);
  });

  it('checks a JSON body as it came: null stays null in a number-or-null union, a number sent as text is refused', async () => {
    const { app } = build();
    const body = {
      type: 'object',
      properties: { features: { type: 'object', additionalProperties: { anyOf: [{ type: 'number' }, { type: 'null' }] } }, flag: { type: 'boolean' } },
      additionalProperties: false,
    } as const;
    app.post('/score', { schema: { body } }, async (request) => ({ body: request.body }));
    app.get('/page', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer' }, open: { type: 'boolean' } } } } }, async (request) => ({ query: request.query }));
    // With Fastify's coercion, Ajv tried the number branch first and made the null a 0: a
    // missing respiration rate scored as 0 breaths a minute in POST /score.
    const missing = await app.inject({ method: 'POST', url: '/score', payload: { features: { respiratory_rate: null, heart_rate: 88 } } });
    expect([missing.statusCode, missing.json()]).toEqual([200, { body: { features: { respiratory_rate: null, heart_rate: 88 } } }]);
    const text = await app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rate: '120' } } });
    expect(text.statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/score', payload: { flag: 'true' } })).statusCode).toBe(400);
    // Query strings are text: still coerced to the schema's types.
    const page = await app.inject({ method: 'GET', url: '/page?limit=5&open=true' });
    expect([page.statusCode, page.json()]).toEqual([200, { query: { limit: 5, open: true } }]);
  });

  it('exposes its own metrics registry in Prometheus text', async () => {
    const { app, metrics } = build();
    new Counter({ name: 'ehr_things_total', help: 'things', registers: [metrics] }).inc(3);
    await app.inject({ method: 'GET', url: '/health/live' });
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toContain('ehr_things_total{service="svc"} 3');
    expect(r.body).toContain('ehr_http_request_duration_seconds_count{service="svc",method="GET",route="/health/live",status="200"} 1');
  });
});

describe('logger', () => {
  it('redacts patient identifiers, keys and secrets at any depth', () => {
    const { lines, destination } = captureLogs();
    const logger = createLogger({ service: 'svc', destination });
    logger.info({ patientId: 'P123', event: { patientId: 'P123', encounterId: 'E9' }, key: 'P123', password: 'hunter2' }, 'hello');
    logger.info({ kafka: { sasl: { password: 'pw' } }, snowflake: { privateKey: '-----BEGIN' } }, 'config');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('P123');
    expect(text).not.toContain('E9');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('BEGIN');
    expect(text).not.toContain('"pw"');
    expect(lines[0]).toMatchObject({ level: 'info', service: 'svc', msg: 'hello', patientId: '[redacted]' });
  });
});
