// The producer's HTTP contract: every error a problem (an OperationOutcome under /fhir), the
// FHIR CapabilityStatement, and an OpenAPI document that lists every route with its errors.
import { specMismatches } from '@ehr/runtime';
import type { InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startProducer, type Started } from './helpers.js';

const PROBLEM = 'application/problem+json; charset=utf-8';
const FHIR = 'application/fhir+json; charset=utf-8';

let producer: Started;
beforeEach(async () => {
  producer = await startProducer({ PRODUCER_MAX_BATCH_EVENTS: '1' });
});
afterEach(() => producer.stop());

const inject = (options: InjectOptions) => producer.service.app.inject(options);

describe('producer errors', () => {
  it('answers POST /events problems: a body that is not a batch, invalid events (each in errors), too many events', async () => {
    const notBatch = await inject({ method: 'POST', url: '/events', payload: { nope: 1 } });
    expect([notBatch.statusCode, notBatch.headers['content-type'], notBatch.json().type]).toEqual([400, PROBLEM, 'tag:ehr-pipeline,2026:problem:invalid-batch']);
    const invalid = await inject({ method: 'POST', url: '/events', payload: [{ schema: 'vital_sign' }] });
    expect(invalid.headers['content-type']).toBe(PROBLEM);
    expect(invalid.json()).toMatchObject({
      type: 'tag:ehr-pipeline,2026:problem:invalid-events',
      title: 'Some events are invalid; none were accepted',
      status: 400,
      detail: '1 of 1 events are invalid; none were accepted',
      instance: '/events',
      errors: [{ index: 0, reason: expect.any(String), issues: expect.any(Array) }],
    });
    const tooMany = await inject({ method: 'POST', url: '/events', payload: [{}, {}] });
    expect([tooMany.statusCode, tooMany.headers['content-type']]).toEqual([413, PROBLEM]);
    expect(tooMany.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:batch-too-large', maxEvents: 1 });
  });

  it('answers unknown paths and methods with problems outside /fhir and OperationOutcomes inside it', async () => {
    const outside = await inject({ method: 'GET', url: '/nothing' });
    expect([outside.statusCode, outside.headers['content-type']]).toEqual([404, PROBLEM]);
    const getEvents = await inject({ method: 'GET', url: '/events' });
    expect([getEvents.statusCode, getEvents.headers.allow, getEvents.headers['content-type']]).toEqual([405, 'POST', PROBLEM]);
    const unknown = await inject({ method: 'GET', url: '/fhir/Patient/123' });
    expect([unknown.statusCode, unknown.headers['content-type'], unknown.json().resourceType, unknown.json().issue[0].code]).toEqual([404, FHIR, 'OperationOutcome', 'not-found']);
    const getObservation = await inject({ method: 'GET', url: '/fhir/Observation' });
    expect([getObservation.statusCode, getObservation.headers.allow, getObservation.json().issue[0].code]).toEqual([405, 'POST', 'not-supported']);
    const badJson = await inject({ method: 'POST', url: '/fhir', headers: { 'content-type': 'application/fhir+json' }, payload: '{"resourceType":' });
    expect([badJson.statusCode, badJson.headers['content-type'], badJson.json().resourceType]).toEqual([400, FHIR, 'OperationOutcome']);
  });
});

describe('GET /fhir/metadata', () => {
  it('answers the CapabilityStatement of intake: Observation create, transaction and batch, Patient and Encounter, JSON formats', async () => {
    const r = await inject({ method: 'GET', url: '/fhir/metadata' });
    expect([r.statusCode, r.headers['content-type']]).toEqual([200, FHIR]);
    const cs = r.json();
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: expect.arrayContaining(['json', 'application/fhir+json']) });
    const rest = cs.rest[0];
    expect(rest.mode).toBe('server');
    expect(rest.interaction.map((i: { code: string }) => i.code)).toEqual(['transaction', 'batch']);
    expect(rest.resource.map((res: { type: string }) => res.type)).toEqual(['Observation', 'Patient', 'Encounter']);
    expect(rest.resource[0].interaction).toEqual([expect.objectContaining({ code: 'create' })]);
    expect(rest.resource[0].documentation).toContain('8867-4');
  });
});

describe('OpenAPI', () => {
  it('lists every route the producer registers, and nothing it does not', async () => {
    expect(await specMismatches(producer.service.app)).toEqual({ undocumented: [], phantom: [] });
  });

  it('documents the true status codes: 202 for /events, each error as a problem (an OperationOutcome under /fhir)', async () => {
    const doc = (await inject({ method: 'GET', url: '/openapi.json' })).json();
    const events = doc.paths['/events'].post.responses;
    expect(Object.keys(events).sort()).toEqual(['202', '400', '401', '403', '413', '415', '421', '429', '500', '503']);
    for (const code of ['400', '401', '413', '429', '503']) expect(Object.keys(events[code].content)).toEqual(['application/problem+json']);
    expect(Object.keys(doc.paths['/fhir/Observation'].post.requestBody.content)).toEqual(['application/fhir+json', 'application/json']);
    const observation = doc.paths['/fhir/Observation'].post.responses;
    expect(Object.keys(observation).sort()).toEqual(['200', '202', '400', '401', '403', '413', '415', '421', '429', '500', '503']);
    for (const code of ['400', '401', '429', '503']) expect(Object.keys(observation[code].content)).toEqual(['application/fhir+json']);
    expect(doc.paths['/fhir/metadata'].get).toBeDefined();
  });

  it('serves the API reference page at /docs', async () => {
    const r = await inject({ method: 'GET', url: '/docs/' });
    expect([r.statusCode, r.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
  });
});

describe('one event id, two events', () => {
  it('refuses a request with two different events under one eventId (the second would be dropped as a retry after a 202), and takes the same event twice', async () => {
    const own = await startProducer();
    try {
      const at = new Date(Date.now() - 60_000).toISOString();
      const vital = (kind: string, value: number, unit: string) => ({ schemaVersion: 1, eventId: 'same-id', patientId: 'P-1', encounterId: null, occurredAt: at, producedAt: at, source: 'synthetic', schema: 'vital_sign', payload: { kind, value, unit } });
      const hr = vital('heart_rate', 60, '/min');
      const conflict = await own.service.app.inject({ method: 'POST', url: '/events', payload: [hr, vital('respiratory_rate', 35, '/min')] });
      expect(conflict.statusCode).toBe(400);
      expect(conflict.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:invalid-events', errors: [{ index: 1, reason: 'duplicate_id_conflict', issues: [{ path: 'eventId', message: expect.stringContaining("also events[0]'s") }] }] });
      // Its keys in another order: the same event, a retry within the request.
      const reordered = Object.fromEntries(Object.entries(hr).reverse());
      const same = await own.service.app.inject({ method: 'POST', url: '/events', payload: [hr, reordered] });
      expect([same.statusCode, same.json()]).toEqual([202, { accepted: 2 }]);
    } finally {
      await own.stop();
    }
  });
});
