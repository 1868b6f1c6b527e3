// The scoring service's HTTP contract: the OpenAPI document lists every route it registers,
// with its errors as problems, and errors are problem+json.
import { MemoryBus } from '@ehr/bus';
import { createLogger, specMismatches } from '@ehr/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoringService, loadConfig } from '../src/index.js';

const service = createScoringService({ config: loadConfig({ MODEL_PATH: '/nonexistent/model.json', MODEL_WATCH: 'false' }), logger: createLogger({ service: 'scoring', level: 'silent' }), bus: new MemoryBus() });
beforeAll(() => service.start());
afterAll(async () => {
  await service.app.close();
  await service.stop();
});

describe('scoring HTTP', () => {
  it('lists every route it registers in /openapi.json, and nothing else', async () => {
    expect(await specMismatches(service.app)).toEqual({ undocumented: [], phantom: [] });
    const doc = (await service.app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths['/score'].post.responses).sort()).toEqual(['200', '400', '401', '403', '413', '415', '421', '422', '500']);
    expect(Object.keys(doc.paths['/model/reload'].post.responses['422'].content)).toEqual(['application/problem+json']);
  });

  it('answers schema errors, unknown paths and a missing artifact as problems', async () => {
    const bad = await service.app.inject({ method: 'POST', url: '/score', payload: { features: { heart_rate: 'fast' } } });
    expect([bad.statusCode, bad.headers['content-type'], bad.json().type]).toEqual([400, 'application/problem+json; charset=utf-8', 'tag:ehr-pipeline,2026:problem:invalid-request']);
    const missing = await service.app.inject({ method: 'GET', url: '/scores' });
    expect([missing.statusCode, missing.headers['content-type']]).toEqual([404, 'application/problem+json; charset=utf-8']);
    const wrongMethod = await service.app.inject({ method: 'GET', url: '/score' });
    expect([wrongMethod.statusCode, wrongMethod.headers.allow]).toEqual([405, 'POST']);
  });

  it('serves the API reference page at /docs', async () => {
    expect((await service.app.inject('/docs/')).statusCode).toBe(200);
  });
});
