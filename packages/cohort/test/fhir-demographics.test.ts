import { DEFAULT_ENGINE_OPTIONS, processEvent, SIGNAL_INDEX, validateRawEvent, type PatientState, type RawEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { LOINC_SIGNALS, mapBundle, mapObservation } from '../src/index.js';

const observation = (code: string, value: number, unit: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2026-01-05T10:00:00Z',
  valueQuantity: { value, unit, code: unit },
  ...extra,
});

describe('FHIR: the PhysioNet variables by LOINC', () => {
  it('maps the new codes (EtCO2, blood gas, ICU labs) to their kinds', () => {
    const kinds = new Map([['19889-5', 'etco2'], ['2744-1', 'ph'], ['2019-8', 'paco2'], ['1925-7', 'base_excess'], ['1920-8', 'ast'], ['6768-6', 'alkaline_phosphatase'], ['17861-6', 'calcium'], ['2075-0', 'chloride'], ['1968-7', 'bilirubin_direct'], ['19123-9', 'magnesium'], ['2777-1', 'phosphate'], ['10839-9', 'troponin_i'], ['4544-3', 'hematocrit'], ['3173-2', 'ptt'], ['14979-9', 'ptt'], ['3255-7', 'fibrinogen']]);
    for (const [code, kind] of kinds) expect(LOINC_SIGNALS.get(code)?.kind, code).toBe(kind);
    const m = mapObservation(observation('2744-1', 7.28, '[pH]'));
    expect(m.events[0]).toMatchObject({ schema: 'lab_result', payload: { kind: 'ph', value: 7.28 } });
  });

  it("a result's later version with a new value is an event of its own, not a duplicate of the first; the same value again is one event", () => {
    const hr = (status: string, value: number) => observation('8867-4', value, '/min', { id: 'hr-1', status });
    const [final, retry, amended, corrected] = [hr('final', 72), hr('final', 72), hr('amended', 145), hr('corrected', 140)].map((o) => mapObservation(o));
    // The same id, patient and code gave the amendment the first value's event id: the feature service dropped it as a duplicate.
    expect(final!.events[0]!.eventId).toBe(retry!.events[0]!.eventId);
    expect(new Set([final, amended, corrected].map((m) => m!.events[0]!.eventId)).size).toBe(3);
    expect(amended!.events[0]).toMatchObject({ payload: { kind: 'heart_rate', value: 145 } });
    expect(amended!.issues).toEqual([expect.objectContaining({ severity: 'information', expression: 'Observation.status', diagnostics: expect.stringContaining('replaces the value of an earlier version') })]);
    // A final that confirms the preliminary value is the same event (counted once); one that changes it is not.
    expect(mapObservation(hr('preliminary', 72)).events[0]!.eventId).toBe(final!.events[0]!.eventId);
    expect(mapObservation(hr('preliminary', 70)).events[0]!.eventId).not.toBe(final!.events[0]!.eventId);
  });

  it("a result's versions name the result and when each was made; through the feature engine the latest stands, in any order", () => {
    const k = (status: string, value: number, lastUpdated?: string, extra: Record<string, unknown> = {}) =>
      mapObservation(observation('2823-3', value, 'mmol/L', { id: 'k-7', status, ...(lastUpdated ? { meta: { lastUpdated } } : {}), ...extra })).events[0]!;
    const preliminary = k('preliminary', 6.8, '2026-03-01T08:05:00Z');
    const final = k('final', 6.5, '2026-03-01T08:30:00Z');
    const corrected = k('corrected', 4.1, '2026-03-01T11:00:00+01:00');
    for (const e of [preliminary, final, corrected]) expect(validateRawEvent(e).ok).toBe(true);
    expect(new Set([preliminary, final, corrected].map((e) => e.schema === 'lab_result' && e.payload.result?.id)).size).toBe(1);
    expect(corrected).toMatchObject({ payload: { result: { at: '2026-03-01T10:00:00Z' } } });
    // issued stands in for meta.lastUpdated; neither: the time it was received; one that is not an instant: a warning.
    expect(mapObservation(observation('2823-3', 4, 'mmol/L', { id: 'k-8', issued: '2026-03-01T09:00:00Z' })).events[0]).toMatchObject({ payload: { result: { at: '2026-03-01T09:00:00Z' } } });
    const received = mapObservation(observation('2823-3', 4, 'mmol/L', { id: 'k-8' }), { receivedAt: new Date('2026-03-02T00:00:00.400Z') }).events[0]!;
    expect(received).toMatchObject({ payload: { result: { at: '2026-03-02T00:00:00Z' } } });
    const badly = mapObservation(observation('2823-3', 4, 'mmol/L', { id: 'k-8', meta: { lastUpdated: '2026-03-01' } }));
    expect(badly.issues).toEqual([expect.objectContaining({ severity: 'warning', expression: 'Observation.meta.lastUpdated' })]);
    // Without an id no version can be matched: no result.
    expect(mapObservation(observation('2823-3', 4, 'mmol/L', {})).events[0]).not.toHaveProperty('payload.result');
    const options = { ...DEFAULT_ENGINE_OPTIONS, triggers: new Set<never>() };
    for (const order of [[preliminary, final, corrected], [corrected, preliminary, final], [final, corrected, preliminary]]) {
      const store = new Map<string, PatientState>();
      for (const e of order) processEvent(store, e, options);
      expect(store.get(final.patientId)!.series[SIGNAL_INDEX.potassium]!.values).toEqual([4.1]);
    }
  });

  it("versions back to an earlier value, and a withdrawal of the latest, hold in every order of arrival (a 503's retry reorders them)", () => {
    const k = (status: string, value: number, lastUpdated: string) => mapObservation(observation('2823-3', value, 'mmol/L', { id: 'k-9', status, meta: { lastUpdated } })).events[0]!;
    const permutations = <T,>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest])));
    const options = { ...DEFAULT_ENGINE_OPTIONS, triggers: new Set<never>() };
    const potassium = (order: RawEvent[]) => {
      const store = new Map<string, PatientState>();
      const kinds = order.map((e) => processEvent(store, e, options).kind);
      return { values: [...(store.get(order[0]!.patientId)!.series[SIGNAL_INDEX.potassium]?.values ?? [])], kinds };
    };
    // 6.5, then 4.1, then corrected back to 6.5: the third is a version of its own, not a duplicate of the first.
    const back = [k('preliminary', 6.5, '2026-01-05T10:05:00Z'), k('final', 4.1, '2026-01-05T10:30:00Z'), k('corrected', 6.5, '2026-01-05T13:00:00Z')];
    expect(new Set(back.map((e) => e.eventId)).size).toBe(3);
    for (const order of permutations(back)) expect(potassium(order)).toEqual({ values: [6.5], kinds: ['featurized', 'featurized', 'featurized'] });
    // Withdrawn after a correction: nothing of the result is left, in all six orders.
    const withdrawn = [k('preliminary', 6.8, '2026-01-05T10:05:00Z'), k('corrected', 4.1, '2026-01-05T11:00:00Z'), k('entered-in-error', 4.1, '2026-01-05T12:00:00Z')];
    for (const order of permutations(withdrawn)) expect(potassium(order).values).toEqual([]);
    // A retry of one version (its stated time the same) is still one event.
    expect(k('final', 4.1, '2026-01-05T10:30:00Z').eventId).toBe(back[1]!.eventId);
  });

  it('a version re-dated with the same value is a new reading that moves it, not a duplicate dropped after a 202', () => {
    const rr = (effectiveDateTime: string, lastUpdated: string) => mapObservation(observation('9279-1', 30, '/min', { id: 'rr-3', effectiveDateTime, meta: { lastUpdated } })).events[0]!;
    const first = rr('2026-01-05T07:00:00Z', '2026-01-05T07:01:00Z');
    const redated = rr('2026-01-05T09:50:00Z', '2026-01-05T09:52:00Z');
    expect(redated.eventId).not.toBe(first.eventId);
    const options = { ...DEFAULT_ENGINE_OPTIONS, latenessMs: 4 * 3_600_000, triggers: new Set<never>() };
    for (const order of [[first, redated], [redated, first]]) {
      const store = new Map<string, PatientState>();
      const kinds = order.map((e) => processEvent(store, e, options).kind);
      expect(kinds).not.toContain('duplicate');
      const series = store.get(first.patientId)!.series[SIGNAL_INDEX.respiratory_rate]!;
      expect([...series.times.slice(0, series.length)]).toEqual([Date.parse('2026-01-05T09:50:00Z')]);
    }
  });

  it('entered-in-error withdraws the reading of that id and value, which then leaves the patient\'s picture', () => {
    const hr = (status: string, value: number, extra: Record<string, unknown> = { id: 'hr-9' }) => observation('8867-4', value, '/min', { status, ...extra });
    const reading = mapObservation(hr('final', 190)).events[0]!;
    const withdrawal = mapObservation(hr('entered-in-error', 190));
    expect(withdrawal.events).toHaveLength(1);
    const event = withdrawal.events[0]!;
    expect(event).toMatchObject({ schema: 'vital_sign', occurredAt: reading.occurredAt, payload: { kind: 'heart_rate', value: 190, retracts: reading.eventId } });
    expect(event.eventId).not.toBe(reading.eventId);
    expect(validateRawEvent(event).ok).toBe(true);
    expect(withdrawal.issues).toEqual([expect.objectContaining({ severity: 'information', diagnostics: expect.stringContaining('withdraws the reading') })]);
    // Through the feature engine, in either order: no heart rate of 190 is left.
    const options = { ...DEFAULT_ENGINE_OPTIONS, triggers: new Set<never>() };
    for (const order of [[reading, event], [event, reading]]) {
      const store = new Map<string, PatientState>();
      for (const e of order) processEvent(store, e, options);
      expect(store.get(reading.patientId)!.series[SIGNAL_INDEX.heart_rate]?.values ?? []).toEqual([]);
    }
    // Without an id or a value there is no telling which reading it was: no event, and a warning saying so.
    for (const nameless of [hr('entered-in-error', 190, {}), { ...hr('entered-in-error', 190), valueQuantity: undefined, dataAbsentReason: { text: 'error' } }]) {
      const m = mapObservation(nameless);
      expect(m.events).toEqual([]);
      expect(m.issues).toContainEqual(expect.objectContaining({ severity: 'warning', diagnostics: expect.stringContaining('cannot be named') }));
    }
  });

  it('a subject by identifier is keyed by its system and value, and refused without a system', () => {
    const bySubject = (subject: unknown) => mapObservation(observation('8867-4', 80, '/min', { subject }));
    const a = bySubject({ identifier: { system: 'urn:oid:1.2.3.hospital-a.mrn', value: '1001' } });
    const b = bySubject({ identifier: { system: 'urn:oid:1.2.3.hospital-b.mrn', value: '1001' } });
    const byId = bySubject({ reference: 'Patient/1001' });
    // All three were patient "1001": two hospitals' patients (and a third) merged into one.
    const ids = [a, b, byId].map((m) => m.events[0]?.patientId);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}:1001$/);
    expect(bySubject({ identifier: { system: 'urn:oid:1.2.3.hospital-a.mrn', value: '1001' } }).events[0]?.patientId).toBe(ids[0]);
    const noSystem = bySubject({ identifier: { value: '1001' } });
    expect([noSystem.valid, noSystem.issues[0]?.expression]).toEqual([false, 'Observation.subject']);
    expect(validateRawEvent(a.events[0]).ok).toBe(true);
  });

  it('a Patient named by its urn:uuid and by its id in one Bundle is one patient', () => {
    const uuid = '6c3d2f0a-8b1e-4c5d-9e7f-0a1b2c3d4e5f';
    const r = mapBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: `urn:uuid:${uuid}`, resource: { resourceType: 'Patient', id: 'p123', gender: 'male' } },
        { resource: { resourceType: 'Encounter', id: 'e5', status: 'in-progress', subject: { reference: `urn:uuid:${uuid}` }, period: { start: '2026-01-05T08:00:00Z' } } },
        { resource: observation('8867-4', 90, '/min', { subject: { reference: `urn:uuid:${uuid}` } }) },
        { resource: observation('8867-4', 95, '/min', { subject: { reference: 'Patient/p123' }, effectiveDateTime: '2026-01-05T11:00:00Z' }) },
      ],
    });
    expect(r.entries.slice(1).map((e) => e.mapping.events[0]?.patientId)).toEqual(['p123', 'p123', 'p123']);
    expect(r.entries[1]!.mapping.events[0]).toMatchObject({ payload: { gender: 'M' } });
  });

  it('a value with a comparator (<, >, <=, >=) is a bound, not a measurement: refused, naming it', () => {
    for (const comparator of ['<', '>', '<=', '>=']) {
      const m = mapObservation(observation('2524-7', 0.5, 'mmol/L', { valueQuantity: { value: 0.5, comparator, unit: 'mmol/L', code: 'mmol/L' } }));
      expect([m.valid, m.events.length], comparator).toEqual([false, 0]);
      expect(m.issues[0]).toMatchObject({ severity: 'error', expression: 'Observation.valueQuantity.comparator' });
    }
    expect(mapObservation(observation('2524-7', 0.5, 'mmol/L')).events).toHaveLength(1);
  });

  it('2708-6 is SpO2, unless the Observation is a laboratory one (then SaO2 from a blood gas)', () => {
    expect(mapObservation(observation('2708-6', 95, '%')).events[0]).toMatchObject({ schema: 'vital_sign', payload: { kind: 'spo2' } });
    const lab = mapObservation(observation('2708-6', 93, '%', { category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }] }));
    expect(lab.events[0]).toMatchObject({ schema: 'lab_result', payload: { kind: 'sao2', value: 93 } });
  });
});

describe('FHIR Bundle demographics: Patient and Encounter beside the Observations', () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:0b8f3b9e-1f6a-4a4e-9d55-2a1f3c1b7e01', resource: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1956-03-20' } },
      { resource: { resourceType: 'Encounter', id: 'hosp1', status: 'in-progress', class: { code: 'EMER', display: 'emergency' }, subject: { reference: 'Patient/p1' }, period: { start: '2026-01-04T08:00:00Z' } } },
      {
        resource: {
          resourceType: 'Encounter',
          id: 'icu1',
          status: 'in-progress',
          class: { code: 'IMP', display: 'inpatient encounter' },
          subject: { reference: 'Patient/p1' },
          partOf: { reference: 'Encounter/hosp1' },
          period: { start: '2026-01-05T09:30:00Z' },
          location: [{ location: { display: 'MICU' } }],
        },
      },
      { resource: observation('8867-4', 112, '/min', { encounter: { reference: 'Encounter/icu1' } }) },
      { resource: { resourceType: 'Encounter', id: 'x', status: 'in-progress', period: { start: '2026-01-05T09:30:00Z' } } },
    ],
  };

  it('an Encounter becomes an admission with sex, age at its start, unit and the hospital admission of the Encounter it is part of', () => {
    const r = mapBundle(bundle, { receivedAt: new Date('2026-01-05T11:00:00Z') });
    const icu = r.entries[2]!.mapping;
    expect(icu.valid).toBe(true);
    expect(icu.events).toHaveLength(1);
    expect(icu.events[0]).toMatchObject({
      schema: 'admission',
      patientId: 'p1',
      encounterId: 'icu1',
      occurredAt: '2026-01-05T09:30:00Z',
      payload: { unit: 'MICU', gender: 'F', age: 69, hospitalAdmitTime: '2026-01-04T08:00:00Z', admissionType: 'inpatient encounter' },
    });
    expect(validateRawEvent(icu.events[0]).ok).toBe(true);
    expect(r.entries[1]!.mapping.events[0]).toMatchObject({ schema: 'admission', encounterId: 'hosp1', payload: { admissionType: 'emergency', unit: 'UNKNOWN' } });
    // The Patient yields no event of its own, and says where its demographics went.
    expect(r.entries[0]!.mapping).toMatchObject({ valid: true, events: [] });
    expect(r.entries[0]!.mapping.issues[0]!.diagnostics).toMatch(/used by the Encounter/);
    expect(r.entries[3]!.mapping.events[0]).toMatchObject({ schema: 'vital_sign', payload: { kind: 'heart_rate', value: 112 } });
    // No subject: an error naming the element.
    expect(r.entries[4]!.mapping).toMatchObject({ valid: false });
    expect(r.entries[4]!.mapping.issues[0]!.expression).toBe('Bundle.entry[4].resource.subject');
  });

  it('a finished Encounter also closes the stay (discharge, with the disposition when coded)', () => {
    const r = mapBundle({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ resource: { resourceType: 'Encounter', id: 'e2', status: 'finished', subject: { reference: 'Patient/p9' }, period: { start: '2026-01-01T00:00:00Z', end: '2026-01-03T12:00:00Z' }, hospitalization: { dischargeDisposition: { coding: [{ code: 'exp' }] } } }, request: { method: 'POST', url: 'Encounter' } }],
    });
    const events = r.entries[0]!.mapping.events;
    expect(events.map((e) => e.schema)).toEqual(['admission', 'discharge']);
    expect(events[1]).toMatchObject({ occurredAt: '2026-01-03T12:00:00Z', payload: { outcome: 'died' } });
    expect(events[0]).toMatchObject({ payload: { gender: 'U' } });
  });

  it('an Encounter is refused when its request is not a POST or PUT, or it starts on a day that does not exist', () => {
    const encounter = (period: Record<string, string>, method = 'POST', status = 'in-progress') => ({ resource: { resourceType: 'Encounter', id: 'e3', status, subject: { reference: 'Patient/p9' }, period }, request: { method, url: 'Encounter' } });
    // A DELETE was taken as the admission; 2026-02-30 as an admission on 2 March.
    const r = mapBundle({ resourceType: 'Bundle', type: 'batch', entry: [encounter({ start: '2026-02-10T10:00:00Z' }, 'DELETE'), encounter({ start: '2026-02-30T10:00:00Z' }), { resource: { resourceType: 'Patient', id: 'p9' }, request: { method: 'DELETE', url: 'Patient/p9' } }] });
    expect(r.entries.map((e) => [e.mapping.valid, e.mapping.events.length])).toEqual([
      [false, 0],
      [false, 0],
      [false, 0],
    ]);
    expect(r.entries[0]!.mapping.issues[0]).toMatchObject({ severity: 'error', expression: 'Bundle.entry[0].request.method' });
    expect(r.entries[1]!.mapping.issues[0]).toMatchObject({ severity: 'error', expression: 'Bundle.entry[1].resource.period.start', diagnostics: expect.stringContaining('no such day') });
  });

  it('a finished Encounter whose end makes no discharge says so (the admission is kept)', () => {
    const finished = (period: Record<string, string>) => ({ resource: { resourceType: 'Encounter', id: 'e4', status: 'finished', subject: { reference: 'Patient/p9' }, period }, request: { method: 'POST', url: 'Encounter' } });
    const r = mapBundle({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [finished({ start: '2026-01-01T00:00:00Z' }), finished({ start: '2026-01-01T00:00:00Z', end: '2026-01-02' }), finished({ start: '2026-01-05T00:00:00Z', end: '2026-01-02T00:00:00Z' }), finished({ start: '2026-01-01T00:00:00Z', end: '2026-02-30T00:00:00Z' })],
    });
    for (const [i, why] of ['has no period.end', 'not a dateTime', 'before period.start', 'does not exist'].entries()) {
      const m = r.entries[i]!.mapping;
      expect(m.events.map((e) => e.schema), why).toEqual(['admission']);
      expect(m.issues.find((x) => x.expression.endsWith('period.end')), why).toMatchObject({ severity: 'warning', diagnostics: expect.stringContaining(why) });
    }
  });

  it("an Encounter named by its urn:uuid is one stay: the admission and the Observations referring to the uuid carry one encounterId", () => {
    const patientUuid = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const stayUuid = '11111111-2222-3333-4444-555555555555';
    const transaction = (encounterId?: string, partOf?: string) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: `urn:uuid:${patientUuid}`, resource: { resourceType: 'Patient', id: 'pat1', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: `urn:uuid:${stayUuid.toUpperCase()}`,
          resource: { resourceType: 'Encounter', ...(encounterId ? { id: encounterId } : {}), status: 'in-progress', subject: { reference: `urn:uuid:${patientUuid}` }, period: { start: '2026-01-05T08:00:00Z' } },
          request: { method: 'POST', url: 'Encounter' },
        },
        { resource: observation('8867-4', 90, '/min', { subject: { reference: `urn:uuid:${patientUuid}` }, encounter: { reference: `urn:uuid:${stayUuid}` } }), request: { method: 'POST', url: 'Observation' } },
        ...(partOf ? [{ resource: { resourceType: 'Encounter', id: 'icu9', status: 'in-progress', subject: { reference: 'Patient/pat1' }, partOf: { reference: partOf }, period: { start: '2026-01-05T09:00:00Z' } }, request: { method: 'POST', url: 'Encounter' } }] : []),
      ],
    });
    const encounterIds = (b: unknown) => mapBundle(b, { receivedAt: new Date('2026-01-05T12:00:00Z') }).entries.slice(1, 3).map((e) => e.mapping.events[0]?.encounterId);
    // The admission had null (no id) or enc1 while the vital sign had the uuid: one stay, two ids.
    expect(encounterIds(transaction())).toEqual([stayUuid, stayUuid]);
    expect(encounterIds(transaction('enc1'))).toEqual(['enc1', 'enc1']);
    const withPart = mapBundle(transaction('enc1', `urn:uuid:${stayUuid}`));
    expect(withPart.entries[3]!.mapping.events[0]).toMatchObject({ encounterId: 'icu9', payload: { hospitalAdmitTime: '2026-01-05T08:00:00Z' } });
    for (const e of withPart.entries) for (const ev of e.mapping.events) expect(validateRawEvent(ev).ok).toBe(true);
  });

  it('a Patient that no Encounter refers to is reported, not silently dropped', () => {
    const r = mapBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'lonely', gender: 'male' } }] });
    expect(r.entries[0]!.mapping.issues[0]).toMatchObject({ severity: 'warning', code: 'not-supported' });
  });
});
