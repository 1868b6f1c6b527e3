import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drain, startProducer, type Started } from './helpers.js';

// The official HL7 FHIR R4 examples (npm package hl7.fhir.r4.examples@4.0.1).
const require = createRequire(import.meta.url);
const examplesDir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(examplesDir, `${name}.json`), 'utf8'));

let producer: Started;
beforeEach(async () => {
  producer = await startProducer({ PRODUCER_BODY_LIMIT_BYTES: '65536', PRODUCER_MAX_BATCH_EVENTS: '50' });
});
afterEach(() => producer.stop());

const post = (url: string, payload: unknown, contentType = 'application/fhir+json') =>
  producer.service.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });


/** A reading's payload without the version of its result (checked on its own). */
function withoutVersion(payload: object): object {
  const { result: _version, ...rest } = payload as { result?: unknown };
  return rest;
}

describe('POST /fhir/Observation with the official HL7 R4 examples', () => {
  it.each([
    ['Observation-heart-rate', [{ kind: 'heart_rate', value: 44, unit: '/min' }]],
    ['Observation-respiratory-rate', [{ kind: 'respiratory_rate', value: 26, unit: '/min' }]],
    ['Observation-satO2', [{ kind: 'spo2', value: 95, unit: '%' }]],
    ['Observation-body-temperature', [{ kind: 'temperature', value: 36.5, unit: 'Cel' }]],
    ['Observation-blood-pressure', [{ kind: 'systolic_bp', value: 107, unit: 'mm[Hg]' }, { kind: 'diastolic_bp', value: 60, unit: 'mm[Hg]' }]],
    ['Observation-glasgow', [{ kind: 'gcs', value: 13, unit: '{score}' }]],
    ['Observation-f005', [{ kind: 'hemoglobin', value: 7.2, unit: 'g/dL', loinc: '718-7' }]],
    ['Observation-f001', [{ kind: 'glucose', value: 6.3, unit: 'mmol/L', loinc: '15074-8' }]],
  ])('%s is accepted and becomes raw events', async (name, payloads) => {
    const resource = example(name);
    const r = await post('/fhir/Observation', resource);
    expect(r.statusCode, r.body).toBe(202);
    expect(r.headers['content-type']).toContain('application/fhir+json');
    expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(r.json().issue[0]).toMatchObject({ severity: 'information', diagnostics: `${payloads.length} event${payloads.length === 1 ? '' : 's'} accepted` });
    const records = await drain(producer.bus, payloads.length);
    expect(records.map((x) => withoutVersion(x.event.payload))).toEqual(expect.arrayContaining(payloads));
    // Each reading names its result (the Observation's id and code) and when the version was made (meta.lastUpdated).
    const { meta } = resource as { meta?: { lastUpdated?: string } };
    for (const x of records) expect(x.event.payload).toMatchObject({ result: { id: expect.any(String), ...(meta?.lastUpdated ? { at: new Date(meta.lastUpdated).toISOString().replace('.000Z', 'Z') } : {}) } });
    const subject = ((resource.subject as { reference: string }).reference).split('/')[1];
    for (const x of records) {
      expect(x.key).toBe(subject);
      expect(x.event).toMatchObject({ source: 'fhir', patientId: subject });
    }
  });

  it('takes the time of a full timestamp (effectivePeriod.start, with offset) and warns about a date without time', async () => {
    await post('/fhir/Observation', example('Observation-f005'));
    const r = await post('/fhir/Observation', example('Observation-heart-rate'));
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'warning', expression: ['Observation.effectiveDateTime'] })]));
    const records = await drain(producer.bus, 2);
    expect(records.find((x) => x.event.schema === 'lab_result')!.event.occurredAt).toBe('2013-04-05T09:30:10Z');
    expect(records.find((x) => x.event.schema === 'vital_sign')!.event.occurredAt).toBe('1999-07-02T00:00:00Z');
  });

  it('posting the same Observation twice gives the same event id', async () => {
    await post('/fhir/Observation', example('Observation-heart-rate'));
    await post('/fhir/Observation', example('Observation-heart-rate'));
    const records = await drain(producer.bus, 2);
    expect(records).toHaveLength(2);
    expect(records[0]!.event.eventId).toBe(records[1]!.event.eventId);
  });

  it('the same Observation entered-in-error becomes a withdrawal naming the reading\'s event id', async () => {
    await post('/fhir/Observation', example('Observation-heart-rate'));
    const r = await post('/fhir/Observation', { ...example('Observation-heart-rate'), status: 'entered-in-error' });
    expect(r.statusCode, r.body).toBe(202);
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'information', diagnostics: expect.stringContaining('withdraws the reading') })]));
    const [reading, withdrawal] = await drain(producer.bus, 2);
    expect(withdrawal!.event).toMatchObject({ schema: 'vital_sign', occurredAt: reading!.event.occurredAt, payload: { kind: 'heart_rate', value: 44, retracts: reading!.event.eventId } });
    expect(withdrawal!.key).toBe(reading!.key);
  });

  it('reports codes the pipeline does not use instead of dropping them silently', async () => {
    const r = await post('/fhir/Observation', example('Observation-example')); // body weight, LOINC 29463-7
    expect(r.statusCode).toBe(200);
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'warning', code: 'not-supported', expression: ['Observation.code'], diagnostics: expect.stringContaining('29463-7') })]));
  });

  it('takes what is present of a blood-pressure panel with a missing (dataAbsentReason) diastolic', async () => {
    const r = await post('/fhir/Observation', example('Observation-blood-pressure-dar'));
    expect(r.statusCode).toBe(202);
    const records = await drain(producer.bus, 1);
    expect(records.map((x) => withoutVersion(x.event.payload))).toEqual([{ kind: 'systolic_bp', value: 107, unit: 'mm[Hg]' }]);
  });
});

describe('malformed Observations get a 4xx OperationOutcome naming the element and the reason', () => {
  const hr = () => example('Observation-heart-rate');
  it.each([
    ['value is a string', () => ({ ...hr(), valueQuantity: { value: 'fast', unit: '/min' } }), 'Observation.valueQuantity.value', 'value'],
    ['no status', () => ({ ...hr(), status: undefined }), 'Observation.status', 'required'],
    ['unknown status', () => ({ ...hr(), status: 'done' }), 'Observation.status', 'code-invalid'],
    ['no subject', () => ({ ...hr(), subject: undefined }), 'Observation.subject', 'required'],
    ['subject is not a Patient', () => ({ ...hr(), subject: { reference: 'Group/101' } }), 'Observation.subject', 'value'],
    ['no time', () => ({ ...hr(), effectiveDateTime: undefined }), 'Observation.effective[x]', 'required'],
    ['time without zone', () => ({ ...hr(), effectiveDateTime: '2024-01-01T10:00:00' }), 'Observation.effectiveDateTime', 'value'],
    ['no value', () => ({ ...hr(), valueQuantity: undefined }), 'Observation.value[x]', 'required'],
    ['no unit', () => ({ ...hr(), valueQuantity: { value: 80 } }), 'Observation.valueQuantity.code', 'required'],
    ['no code', () => ({ ...hr(), code: undefined }), 'Observation.code', 'required'],
    ['not an Observation', () => ({ ...hr(), resourceType: 'Patient' }), 'Observation.resourceType', 'invalid'],
    ['panel without components', () => ({ ...example('Observation-blood-pressure'), component: [] }), 'Observation.component', 'required'],
  ])('%s', async (_name, resource, expression, code) => {
    const r = await post('/fhir/Observation', resource());
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', code, expression: [expression], diagnostics: expect.any(String) })]));
    expect(await drain(producer.bus, 0)).toEqual([]);
  });

  it('not JSON, wrong media type, too large', async () => {
    const notJson = await post('/fhir/Observation', '{"resourceType": ');
    expect([notJson.statusCode, notJson.json().resourceType]).toEqual([400, 'OperationOutcome']);
    const media = await post('/fhir/Observation', '<Observation/>', 'application/fhir+xml');
    expect([media.statusCode, media.json().resourceType]).toEqual([415, 'OperationOutcome']);
    const big = await post('/fhir/Observation', { ...example('Observation-heart-rate'), note: [{ text: 'x'.repeat(70_000) }] });
    expect([big.statusCode, big.json().issue[0].code]).toEqual([413, 'too-costly']);
  });
});

describe('POST /fhir with a Bundle', () => {
  const entry = (resource: unknown) => ({ resource, request: { method: 'POST', url: 'Observation' } });

  it('transaction: all accepted, with a transaction-response', async () => {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [entry(example('Observation-heart-rate')), entry(example('Observation-blood-pressure')), entry(example('Observation-example'))] };
    const r = await post('/fhir', bundle);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    expect(body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['202 Accepted', '202 Accepted', '200 OK']);
    expect(JSON.stringify(body.entry[2].response.outcome)).toContain('not-supported');
    expect(await drain(producer.bus, 3)).toHaveLength(3);
  });

  it('transaction: one invalid entry refuses the whole Bundle, naming the entry', async () => {
    const bad = { ...example('Observation-heart-rate'), valueQuantity: { value: 'x', unit: '/min' } };
    const r = await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry(example('Observation-satO2')), entry(bad)] });
    expect(r.statusCode).toBe(400);
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', expression: ['Bundle.entry[1].resource.valueQuantity.value'] })]));
    expect(await drain(producer.bus, 0)).toEqual([]);
  });

  it('batch and collection: each entry on its own', async () => {
    const bad = { ...example('Observation-heart-rate'), subject: undefined };
    for (const type of ['batch', 'collection']) {
      const r = await post('/fhir', { resourceType: 'Bundle', type, entry: [{ resource: example('Observation-satO2') }, { resource: bad }, { resource: { resourceType: 'Patient', id: 'x' } }] });
      expect(r.statusCode).toBe(200);
      const body = r.json();
      expect(body.type).toBe('batch-response');
      expect(body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['202 Accepted', '400 Bad Request', '200 OK']);
      expect(body.entry[1].response.outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['Bundle.entry[1].resource.subject'] });
      expect(body.entry[2].response.outcome.issue[1]).toMatchObject({ code: 'not-supported' });
    }
    expect(await drain(producer.bus, 2)).toHaveLength(2);
  });

  it('refuses other Bundle types, other methods, and too many entries', async () => {
    const searchset = await post('/fhir', { resourceType: 'Bundle', type: 'searchset', entry: [] });
    expect([searchset.statusCode, searchset.json().issue[0].expression]).toEqual([400, ['Bundle.type']]);
    const del = await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: example('Observation-satO2'), request: { method: 'DELETE', url: 'Observation/x' } }] });
    expect([del.statusCode, del.json().issue[0].expression]).toEqual([400, ['Bundle.entry[0].request.method']]);
    const many = await post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 51 }, () => ({ resource: { resourceType: 'Observation' } })) });
    expect(many.statusCode).toBe(413);
  });
});

describe('future times at the FHIR door', () => {
  it('an Observation dated more than MAX_FUTURE_SKEW ahead is refused (400, future_event on effective[x]); in a batch Bundle only its entry', async () => {
    const future = { ...example('Observation-heart-rate'), effectiveDateTime: new Date(Date.now() + 3_600_000).toISOString() };
    const one = await post('/fhir/Observation', future);
    expect(one.statusCode).toBe(400);
    expect(one.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', expression: ['Observation.effective[x]'], diagnostics: expect.stringContaining('future_event') })]));
    const now = { ...example('Observation-heart-rate'), effectiveDateTime: new Date().toISOString() };
    const bundle = await post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: future }, { resource: now }] });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.json().entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['400 Bad Request', '202 Accepted']);
    const transaction = await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: future, request: { method: 'POST', url: 'Observation' } }, { resource: now, request: { method: 'POST', url: 'Observation' } }] });
    expect(transaction.statusCode).toBe(400);
    expect(await drain(producer.bus, 1)).toHaveLength(1);
  });
});

describe('mapped events are checked against the contract at the door', () => {
  it('an Observation whose value the contract refuses (1e308) is 400 schema_invalid, not accepted to be dead-lettered later', async () => {
    const huge = { ...example('Observation-heart-rate'), valueQuantity: { value: 1e308, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' } };
    const r = await post('/fhir/Observation', huge);
    expect(r.statusCode).toBe(400);
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', diagnostics: expect.stringMatching(/^schema_invalid: .*payload\.value/) })]));
  });

  it('an effective time on a day that does not exist (2026-02-30) is refused, not rolled over into March', async () => {
    const r = await post('/fhir/Observation', { ...example('Observation-heart-rate'), effectiveDateTime: '2026-02-30T08:00:00Z' });
    expect(r.statusCode).toBe(400);
    expect(r.json().issue).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'error', diagnostics: expect.stringContaining('no such day') })]));
  });

  it('an effective time in year 9999 is future_event (not only unwritable)', async () => {
    const r = await post('/fhir/Observation', { ...example('Observation-heart-rate'), effectiveDateTime: '9999-12-31T23:59:59-23:59' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('future_event');
  });
});

describe('POST /fhir: a batch of hostile entries beside a good one', () => {
  it('refuses each hostile entry with its reason and lands the good one, under the right patient', async () => {
    const obs = (subject: unknown, extra: Record<string, unknown> = {}) => ({
      resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject, effectiveDateTime: '2026-01-05T10:00:00Z', valueQuantity: { value: 88, unit: '/min', code: '/min' }, ...extra },
      request: { method: 'POST', url: 'Observation' },
    });
    const encounter = (method: string, start: string) => ({ resource: { resourceType: 'Encounter', id: 'e1', status: 'in-progress', subject: { reference: 'Patient/p1' }, period: { start } }, request: { method, url: 'Encounter' } });
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        encounter('DELETE', '2026-01-05T08:00:00Z'),
        encounter('POST', '2026-02-30T08:00:00Z'),
        obs({ identifier: { value: '__proto__' } }),
        obs({ reference: 'Patient/p1' }, { valueQuantity: { value: 0.5, comparator: '<', unit: '/min', code: '/min' } }),
        obs({ identifier: { system: 'urn:oid:1.2.3', value: '__proto__' } }),
      ],
    };
    const r = await post('/fhir', bundle);
    expect(r.statusCode, r.body).toBe(200);
    const statuses = r.json().entry.map((e: { response: { status: string } }) => e.response.status);
    expect(statuses).toEqual(['400 Bad Request', '400 Bad Request', '400 Bad Request', '400 Bad Request', '202 Accepted']);
    const [landed] = await drain(producer.bus, 1);
    expect(landed!.event).toMatchObject({ schema: 'vital_sign', payload: { kind: 'heart_rate', value: 88 } });
    expect(landed!.event.patientId).toMatch(/^[0-9a-f]{8}:__proto__$/);
  });
});
