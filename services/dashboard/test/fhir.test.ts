// Scores out as FHIR R4 RiskAssessments: GET /fhir/RiskAssessment?subject=… answers a
// searchset Bundle of the recent scores the ward keeps, behind the read scope; errors under
// /fhir are OperationOutcomes.
import { MemoryBus } from '@ehr/bus';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardService, loadConfig, type DashboardService } from '../src/index.js';
import { patientIdOf } from '../src/fhir/routes.js';
import { makeScore } from './fixtures.js';

const logger = createLogger({ service: 'dashboard', level: 'silent' });
const READ = 'read-0123456789abcdef0123456789abcdef0123';
const INGEST = 'ingest-0123456789abcdef0123456789abcdef';
const T0 = Date.parse('2026-12-06T10:00:00Z');
const FHIR = 'application/fhir+json; charset=utf-8';

describe('GET /fhir/RiskAssessment', () => {
  const running: DashboardService[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.app.close();
      await s.stop();
    }
  });

  function service(env: Record<string, string> = {}) {
    const s = createDashboardService({ config: loadConfig({ DASHBOARD_SERVICE_URLS: '', AUTH_READ_TOKENS: READ, AUTH_INGEST_TOKENS: INGEST, ...env }), logger, bus: new MemoryBus() });
    running.push(s);
    const first = makeScore({ patientId: 'P-7', t: T0, band: 'medium', probability: 0.31, news2: 5 });
    first.payload.triggerEventId = 'raw-event-1';
    s.ward.apply(first, T0);
    s.ward.apply(makeScore({ patientId: 'P-7', t: T0 + 60_000, band: 'high', probability: 0.82, news2: 8 }), T0);
    s.ward.apply(makeScore({ patientId: 'P-8', t: T0, band: 'low', model: null, news2: 1 }), T0);
    return s;
  }
  const get = (s: DashboardService, url: string, token: string | null = READ) => s.app.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('answers a searchset Bundle of the patient’s scores as RiskAssessments, newest first', async () => {
    const s = service();
    const r = await get(s, '/fhir/RiskAssessment?subject=Patient/P-7');
    expect([r.statusCode, r.headers['content-type']]).toEqual([200, FHIR]);
    const bundle = r.json();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(bundle.link[0]).toEqual({ relation: 'self', url: 'http://localhost:80/fhir/RiskAssessment?subject=Patient%2FP-7' });
    const [newest, oldest] = bundle.entry;
    expect(newest.resource.occurrenceDateTime).toBe('2026-12-06T10:01:00.000Z');
    expect(oldest.search).toEqual({ mode: 'match' });
    const first = makeScore({ patientId: 'P-7', t: T0, band: 'medium' });
    expect(oldest.fullUrl).toBe(`urn:uuid:${first.payload.scoreId}`);
    expect(oldest.resource).toEqual({
      resourceType: 'RiskAssessment',
      id: first.payload.scoreId,
      identifier: [{ system: 'tag:ehr-pipeline,2026:score-id', value: first.payload.scoreId }],
      status: 'final',
      subject: { reference: 'Patient/P-7' },
      encounter: { reference: 'Encounter/enc-P-7' },
      occurrenceDateTime: '2026-12-06T10:00:00.000Z',
      method: { coding: [{ system: 'tag:ehr-pipeline,2026:model', code: 'severity-rf', version: '1.0.0', display: 'severity-rf 1.0.0' }], text: 'severity-rf 1.0.0' },
      basis: [{ identifier: { system: 'tag:ehr-pipeline,2026:event-id', value: 'raw-event-1' }, display: 'the observation (event) that triggered this score' }],
      prediction: [
        {
          outcome: expect.objectContaining({ text: 'Severe outcome within the model horizon' }),
          qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'moderate' }], text: 'medium (severity band)' },
          probabilityDecimal: 0.31,
        },
        {
          outcome: expect.objectContaining({ text: 'NEWS2 clinical risk' }),
          qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'moderate' }], text: 'medium (NEWS2)' },
          rationale: 'NEWS2 total 5',
        },
      ],
    });
  });

  it('names a patient or encounter whose id is no FHIR id (a FHIR identifier\'s `<tag>:<value>`) by identifier, not by a reference no server could resolve', async () => {
    const s = service();
    const patientId = '3f2a9c1e:MRN_1001';
    s.ward.apply(makeScore({ patientId, t: T0, band: 'low', news2: 1 }), T0);
    const r = await get(s, `/fhir/RiskAssessment?subject=${encodeURIComponent(`Patient/${patientId}`)}`);
    expect(r.statusCode).toBe(200);
    const { resource } = r.json().entry[0];
    expect(resource.subject).toEqual({ type: 'Patient', identifier: { system: 'tag:ehr-pipeline,2026:patient-id', value: patientId } });
    expect(resource.encounter).toEqual({ type: 'Encounter', identifier: { system: 'tag:ehr-pipeline,2026:encounter-id', value: `enc-${patientId}` } });
  });

  it('takes subject=<id>, patient=<id> and a full Patient URL alike', async () => {
    const s = service();
    for (const query of ['subject=P-7', 'patient=P-7', 'patient=Patient/P-7', 'subject=https://ehr.example.org/fhir/Patient/P-7']) {
      const r = await get(s, `/fhir/RiskAssessment?${query}`);
      expect([query, r.statusCode, r.json().total]).toEqual([query, 200, 2]);
    }
    expect(patientIdOf('Encounter/E-1')).toBeNull();
  });

  it('scores without a model have no probability and say NEWS2 only', async () => {
    const r = (await get(service(), '/fhir/RiskAssessment?subject=P-8')).json();
    const resource = r.entry[0].resource;
    expect(resource.method.coding[0]).toMatchObject({ code: 'news2' });
    expect(resource.prediction[0]).not.toHaveProperty('probabilityDecimal');
    expect(resource.prediction[0].qualitativeRisk.coding[0].code).toBe('low');
  });

  it('answers an unknown patient with an empty Bundle, and ids that name Object.prototype members find nothing', async () => {
    const s = service();
    for (const id of ['nobody', '__proto__', 'constructor', 'toString']) {
      const r = await get(s, `/fhir/RiskAssessment?subject=Patient/${id}`);
      expect([id, r.statusCode, r.json().total, r.json().entry]).toEqual([id, 200, 0, []]);
    }
  });

  it('answers 400 OperationOutcome without a subject, or with a reference to something else', async () => {
    const s = service();
    for (const url of ['/fhir/RiskAssessment', '/fhir/RiskAssessment?subject=Encounter/E-1', '/fhir/RiskAssessment?subject=P-7&patient=P-8']) {
      const r = await get(s, url);
      expect([url, r.statusCode, r.headers['content-type']]).toEqual([url, 400, FHIR]);
      expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required' }] });
    }
  });

  it('needs the read scope (an OperationOutcome otherwise); the CapabilityStatement is open', async () => {
    const s = service();
    const none = await get(s, '/fhir/RiskAssessment?subject=P-7', null);
    expect([none.statusCode, none.headers['content-type'], none.json().issue[0].code]).toEqual([401, FHIR, 'login']);
    const ingest = await get(s, '/fhir/RiskAssessment?subject=P-7', INGEST);
    expect([ingest.statusCode, ingest.json().issue[0].code]).toEqual([403, 'forbidden']);
    const metadata = await get(s, '/fhir/metadata', null);
    expect([metadata.statusCode, metadata.headers['content-type']]).toEqual([200, FHIR]);
    const resource = metadata.json().rest[0].resource[0];
    expect(resource).toMatchObject({ type: 'RiskAssessment', interaction: [{ code: 'search-type' }] });
    expect(resource.searchParam.map((p: { name: string }) => p.name)).toEqual(['subject', 'patient']);
  });

  it('answers unknown FHIR paths 404 and other methods 405 as OperationOutcomes', async () => {
    const s = service();
    const unknown = await get(s, '/fhir/Observation?subject=P-7');
    expect([unknown.statusCode, unknown.headers['content-type'], unknown.json().issue[0].code]).toEqual([404, FHIR, 'not-found']);
    const post = await s.app.inject({ method: 'POST', url: '/fhir/RiskAssessment', headers: { authorization: `Bearer ${READ}` }, payload: {} });
    expect([post.statusCode, post.headers.allow, post.json().resourceType]).toEqual([405, 'GET, HEAD', 'OperationOutcome']);
  });

  it('keeps at most DASHBOARD_HISTORY_POINTS scores per patient, one per event time', async () => {
    const s = service({ DASHBOARD_HISTORY_POINTS: '3' });
    for (let i = 2; i < 6; i++) s.ward.apply(makeScore({ patientId: 'P-7', t: T0 + i * 60_000, band: 'low' }), T0);
    // A second score for the same event time replaces the first.
    s.ward.apply(makeScore({ patientId: 'P-7', t: T0 + 5 * 60_000, band: 'high' }), T0);
    const bundle = (await get(s, '/fhir/RiskAssessment?subject=P-7')).json();
    expect(bundle.entry.map((e: { resource: { occurrenceDateTime: string } }) => e.resource.occurrenceDateTime)).toEqual([
      '2026-12-06T10:05:00.000Z',
      '2026-12-06T10:04:00.000Z',
      '2026-12-06T10:03:00.000Z',
    ]);
    expect(bundle.entry[0].resource.prediction[0].qualitativeRisk.coding[0].code).toBe('high');
  });
});
