// The feature service's HTTP face: an OpenAPI document of exactly its routes, a reference page,
// and errors as problems.
import { createLogger, createMetricsRegistry, Readiness, specMismatches } from '@ehr/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';

const app = buildApp({ logger: createLogger({ service: 'feature', level: 'silent' }), metrics: createMetricsRegistry('feature', { defaultMetrics: false }), readiness: new Readiness('feature') });
afterAll(() => app.close());

describe('feature HTTP', () => {
  it('lists every route it registers in /openapi.json, and serves the reference page', async () => {
    expect(await specMismatches(app)).toEqual({ undocumented: [], phantom: [] });
    const doc = (await app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths).sort()).toEqual(['/health/live', '/health/ready', '/metrics', '/openapi.json']);
    expect((await app.inject('/docs/')).statusCode).toBe(200);
  });

  it('answers an unknown path with a problem', async () => {
    const r = await app.inject('/nothing');
    expect([r.statusCode, r.headers['content-type'], r.json().title]).toEqual([404, 'application/problem+json; charset=utf-8', 'Not Found']);
  });
});
