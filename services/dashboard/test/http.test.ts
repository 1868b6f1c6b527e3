// The dashboard's HTTP contract: an OpenAPI document of every route it registers (the page's
// own files aside), errors as problems, the reference page open like the login form.
import { MemoryBus } from '@ehr/bus';
import { createLogger, registeredRoutes, specMismatches } from '@ehr/runtime';
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, PUBLIC_DIR } from '../src/index.js';

const READ = 'read-0123456789abcdef0123456789abcdef0123';
const service = createDashboardService({
  config: loadConfig({ DASHBOARD_SERVICE_URLS: '', AUTH_READ_TOKENS: READ }),
  logger: createLogger({ service: 'dashboard', level: 'silent' }),
  bus: new MemoryBus(),
});
afterAll(async () => {
  await service.app.close();
  await service.stop();
});

describe('dashboard HTTP', () => {
  it('lists every route it registers in /openapi.json; only the page files are left out', async () => {
    expect(await specMismatches(service.app)).toEqual({ undocumented: [], phantom: [] });
    const hidden = registeredRoutes(service.app).filter((r) => r.hidden && r.method === 'GET' && !r.url.startsWith('/docs'));
    const files = readdirSync(PUBLIC_DIR).map((f) => `/${f}`);
    expect(hidden.map((r) => r.url).sort()).toEqual(['/', ...files].sort());
    const doc = (await service.app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/ward', '/api/patients/{patientId}', '/events', '/fhir/RiskAssessment', '/fhir/metadata', '/login']));
    expect(Object.keys(doc.paths['/api/patients/{patientId}'].get.responses).sort()).toEqual(['200', '401', '403', '404', '421', '500']);
    expect(Object.keys(doc.paths['/api/patients/{patientId}'].get.responses['404'].content)).toEqual(['application/problem+json']);
    expect(Object.keys(doc.paths['/fhir/RiskAssessment'].get.responses['400'].content)).toEqual(['application/fhir+json']);
  });

  it('serves its description and reference page without a token', async () => {
    expect((await service.app.inject('/openapi.json')).statusCode).toBe(200);
    const page = await service.app.inject('/docs/');
    expect([page.statusCode, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('answers an unknown patient and an unknown path with problems', async () => {
    const auth = { authorization: `Bearer ${READ}` };
    const patient = await service.app.inject({ url: '/api/patients/nobody', headers: auth });
    expect([patient.statusCode, patient.headers['content-type']]).toEqual([404, 'application/problem+json; charset=utf-8']);
    expect(patient.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:patient-not-found', status: 404, instance: '/api/patients/nobody' });
    const unknown = await service.app.inject({ url: '/api/nothing', headers: auth });
    expect([unknown.statusCode, unknown.json().title]).toEqual([404, 'Not Found']);
  });
});
