// The poison corpus: bad records made from valid ones, each with what must become of it.
// Raw events (for the raw topic and, where they are JSON, for POST /events), FHIR
// Observations, and records for the downstream topics (feature vectors, scores, dead
// letters). The expected outcome is written down by hand from the contract, never computed
// by the code under test: a dead-letter reason, `scored`, or `duplicate`.
import { buildDeadLetter, FEATURE_NAMES, FEATURE_SET_VERSION, news2FromSnapshotVitals, type DeadLetter, type DeadLetterReason, type FeatureVectorEvent, type SeverityScoreEvent } from '@ehr/features';
import { scoreVector } from '@ehr/scoring';

export type Outcome = 'scored' | 'duplicate' | DeadLetterReason;

export interface PoisonCase {
  name: string;
  /** The record's value exactly as written onto the topic. */
  value: Buffer;
  /** Its Kafka key; `undefined`: the caller chooses (to put it before a valid event on one partition). */
  key?: string | null;
  expect: Outcome;
  /** The same case as a JSON value for POST /events, when it is one. */
  json?: unknown;
  /** Headers to write with it (besides the case label). */
  headers?: Record<string, string>;
}

const bytes = (text: string) => Buffer.from(text);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const MINUTE = 60_000;

/** Deep nesting that JSON.parse still reads. */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

type Json = Record<string, unknown>;

/**
 * Raw-event poison, every case on a patient of its own (`PZ-<tag>-<n>`) so its outcome does
 * not depend on any other record. `at` dates the valid ones (inside the run's timeline);
 * `now` is the wall clock (for the future-event cases).
 */
export function rawEventCases(tag: string, at: string, now: number): PoisonCase[] {
  let n = 0;
  const id = () => `${tag}-${++n}`;
  const envelope = (schema: string, payload: Json): Json => {
    const i = id();
    return { schema, schemaVersion: 1, eventId: `pz-${i}`, patientId: `PZ-${i}`, encounterId: `PZ-${i}-E`, occurredAt: at, producedAt: at, source: 'api', payload };
  };
  const vital = (payload: Json = {}) => envelope('vital_sign', { kind: 'heart_rate', value: 88, unit: '/min', ...payload });
  const lab = (payload: Json = {}) => envelope('lab_result', { kind: 'sodium', value: 139, unit: 'mmol/L', ...payload });
  const note = (payload: Json = {}) => envelope('clinical_note', { category: 'nursing', text: 'Settled overnight.', ...payload });
  const admission = (payload: Json = {}) => envelope('admission', { admissionType: 'EW EMER.', unit: 'Medicine Ward', ...payload });
  const transfer = (payload: Json = {}) => envelope('transfer', { toUnit: 'MICU', icu: true, ...payload });
  const discharge = (payload: Json = {}) => envelope('discharge', { outcome: 'home', ...payload });
  const without = (event: Json, field: string): Json => {
    const copy = { ...event };
    delete copy[field];
    return copy;
  };
  const withoutPayload = (event: Json, field: string): Json => {
    const payload = { ...(event.payload as Json) };
    delete payload[field];
    return { ...event, payload };
  };
  const set = (event: Json, field: string, value: unknown): Json => ({ ...event, [field]: value });
  const setPayload = (event: Json, field: string, value: unknown): Json => ({ ...event, payload: { ...(event.payload as Json), [field]: value } });
  const iso = (ms: number) => new Date(ms).toISOString();

  const cases: PoisonCase[] = [];
  const add = (name: string, event: Json, expect: Outcome) => cases.push({ name, value: json(event), json: event, expect });
  const addBytes = (name: string, value: Buffer, expect: Outcome) => cases.push({ name, value, expect });
  /** A case whose JSON text must be written by hand (a key JSON.stringify would not write). */
  const addText = (name: string, text: string, expect: Outcome) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    cases.push({ name, value: bytes(text), expect, ...(parsed === undefined ? {} : { json: parsed }) });
  };

  // Not an event at all.
  addBytes('not JSON', bytes('hello, this is not an event'), 'unparseable');
  addBytes('truncated JSON', json(vital()).subarray(0, 60), 'unparseable');
  addBytes('empty value', Buffer.alloc(0), 'unparseable');
  addBytes('trailing garbage after the JSON', Buffer.concat([json(vital()), bytes(' x')]), 'unparseable');
  addBytes('two JSON objects back to back', Buffer.concat([json(vital()), json(vital())]), 'unparseable');
  addBytes('UTF-16 encoded JSON', Buffer.from(JSON.stringify(vital()), 'utf16le'), 'unparseable');
  addBytes('a raw NUL inside a string', bytes(JSON.stringify(vital()).replace('"/min"', '"/m\u0000in"')), 'unparseable');
  {
    const text = JSON.stringify(note({ text: 'AAAA' }));
    const i = text.indexOf('AAAA');
    addBytes('invalid UTF-8', Buffer.concat([bytes(text.slice(0, i)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), bytes(text.slice(i + 4))]), 'unparseable');
  }
  add('JSON null', null as unknown as Json, 'schema_invalid');
  add('JSON number', 42 as unknown as Json, 'schema_invalid');
  add('JSON string', 'vital_sign' as unknown as Json, 'schema_invalid');
  add('JSON true', true as unknown as Json, 'schema_invalid');
  add('JSON array', [1, 2, 3] as unknown as Json, 'schema_invalid');
  add('a valid event inside an array', [vital()] as unknown as Json, 'schema_invalid');
  addText('100,000-deep arrays', nestedArrays(100_000), 'schema_invalid');
  addText('50,000-deep objects', nestedObjects(50_000), 'schema_invalid');
  // Huge.
  add('a 900 KB note (nine times the limit)', note({ text: 'x'.repeat(900_000) }), 'schema_invalid');
  add('a note one character past the limit', note({ text: 'x'.repeat(100_001) }), 'schema_invalid');
  add('a 500 KB extra field', set(vital(), 'attachment', 'y'.repeat(500_000)), 'schema_invalid');
  addText('a 600 KB property name', JSON.stringify(vital()).replace('{"schema"', `{"${'p'.repeat(600_000)}":1,"schema"`), 'schema_invalid');
  addBytes('a valid event padded with 800 KB of whitespace', Buffer.concat([bytes(' '.repeat(400_000)), json(vital()), bytes('\n'.repeat(400_000))]), 'scored');
  addBytes('a valid event after a UTF-8 byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(vital())]), 'scored');

  // Every field missing.
  add('no schema', without(vital(), 'schema'), 'schema_invalid');
  add('no schemaVersion', without(vital(), 'schemaVersion'), 'unsupported_schema_version');
  for (const field of ['eventId', 'patientId', 'encounterId', 'occurredAt', 'producedAt', 'source', 'payload']) add(`no ${field}`, without(vital(), field), 'schema_invalid');
  for (const field of ['kind', 'value', 'unit']) add(`vital without payload.${field}`, withoutPayload(vital(), field), 'schema_invalid');
  add('lab without payload.unit', withoutPayload(lab(), 'unit'), 'schema_invalid');
  add('note without payload.text', withoutPayload(note(), 'text'), 'schema_invalid');
  add('admission without payload.unit', withoutPayload(admission(), 'unit'), 'schema_invalid');
  add('transfer without payload.icu', withoutPayload(transfer(), 'icu'), 'schema_invalid');
  add('discharge without payload.outcome', withoutPayload(discharge(), 'outcome'), 'schema_invalid');

  // Fields of the wrong type or shape.
  const wrong: [string, unknown, Outcome][] = [
    ['schema', 1, 'schema_invalid'],
    ['schema', null, 'schema_invalid'],
    ['schemaVersion', '1', 'unsupported_schema_version'],
    ['schemaVersion', 1.5, 'unsupported_schema_version'],
    ['schemaVersion', null, 'unsupported_schema_version'],
    ['schemaVersion', true, 'unsupported_schema_version'],
    ['eventId', 42, 'schema_invalid'],
    ['eventId', null, 'schema_invalid'],
    ['eventId', '', 'schema_invalid'],
    ['eventId', 'has a space', 'schema_invalid'],
    ['eventId', 'e'.repeat(129), 'schema_invalid'],
    ['patientId', 7, 'schema_invalid'],
    ['patientId', null, 'schema_invalid'],
    ['patientId', '', 'schema_invalid'],
    ['patientId', 'has a space', 'schema_invalid'],
    ['patientId', 'p'.repeat(65), 'schema_invalid'],
    ['encounterId', 5, 'schema_invalid'],
    ['encounterId', '', 'schema_invalid'],
    ['occurredAt', 1_700_000_000_000, 'schema_invalid'],
    ['occurredAt', 'yesterday', 'schema_invalid'],
    ['occurredAt', '2026-01-05 08:00:00', 'schema_invalid'],
    ['occurredAt', '2026-01-05T08:00:00', 'schema_invalid'],
    ['producedAt', null, 'schema_invalid'],
    ['source', 'hl7', 'schema_invalid'],
    ['source', 7, 'schema_invalid'],
    ['payload', null, 'schema_invalid'],
    ['payload', [], 'schema_invalid'],
    ['payload', 'heart rate 88', 'schema_invalid'],
  ];
  for (const [field, value, expect] of wrong) add(`${field} = ${JSON.stringify(value).slice(0, 24)}`, set(vital(), field, value), expect);
  const wrongPayload: [string, unknown, Outcome][] = [
    ['kind', 'pulse', 'schema_invalid'],
    ['kind', 7, 'schema_invalid'],
    ['value', '88', 'schema_invalid'],
    ['value', null, 'schema_invalid'],
    ['value', true, 'schema_invalid'],
    ['value', {}, 'schema_invalid'],
    ['value', [88], 'schema_invalid'],
    ['unit', 7, 'schema_invalid'],
    ['unit', '', 'schema_invalid'],
    ['unit', 'u'.repeat(33), 'schema_invalid'],
    ['methodx', 'cuff', 'schema_invalid'],
  ];
  for (const [field, value, expect] of wrongPayload) add(`payload.${field} = ${JSON.stringify(value).slice(0, 24)}`, setPayload(vital(), field, value), expect);
  add('a vital sign carrying a lab payload', { ...vital(), payload: lab().payload }, 'schema_invalid');
  add('an extra top-level field', set(vital(), 'extra', 1), 'schema_invalid');
  add('admission age 200', admission({ age: 200 }), 'schema_invalid');
  add('admission gender X', admission({ gender: 'X' }), 'schema_invalid');
  add('transfer icu "yes"', transfer({ icu: 'yes' }), 'schema_invalid');
  add('discharge outcome "escaped"', discharge({ outcome: 'escaped' }), 'schema_invalid');
  add('note category "diary"', note({ category: 'diary' }), 'schema_invalid');

  // Prototype keys as keys...
  addText('"__proto__" as a top-level key', JSON.stringify(vital()).replace('{"schema"', '{"__proto__":{"isAdmin":true},"schema"'), 'schema_invalid');
  addText('"constructor" as a payload key', JSON.stringify(vital()).replace('"payload":{', '"payload":{"constructor":{"prototype":1},'), 'schema_invalid');
  addText('"toString" as a top-level key', JSON.stringify(vital()).replace('{"schema"', '{"toString":"x","schema"'), 'schema_invalid');
  // ...and as values where the code looks something up.
  for (const schema of ['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'valueOf']) add(`schema "${schema}"`, set(vital(), 'schema', schema), 'schema_invalid');
  for (const unit of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__']) add(`unit "${unit}"`, vital({ unit }), 'unknown_unit');
  add('lab unit "__proto__"', lab({ unit: '__proto__' }), 'unknown_unit');
  add('kind "__proto__"', vital({ kind: '__proto__' }), 'schema_invalid');
  // Ids that look like object keys or like the feature service's own records are patients like any other.
  for (const patientId of ['__proto__', 'constructor', 'toString', '__offset.0', '__offset.x', '__restore_marker.0.0']) add(`patient "${patientId}"`, { ...vital(), patientId }, 'scored');
  // One event id per corpus: two corpora in one run would otherwise share it (an id is unique in a run).
  const protoId = tag === 'door' ? 'hasOwnProperty' : '__proto__';
  add(`event id "${protoId}"`, { ...vital(), eventId: protoId }, 'scored');
  add('admission to unit "__proto__"', admission({ unit: '__proto__' }), 'scored');
  add('a note whose text is "__proto__"', note({ text: '__proto__' }), 'scored');
  // Reserved ids: internal keys of the feature state changelog are unreachable by design.
  for (const patientId of ['#offset/0', '#marker/0.0', '#part/x/0123456789abcdef/0']) add(`reserved patient id "${patientId}"`, { ...vital(), patientId }, 'schema_invalid');

  // Absurd times.
  add('occurredAt 9999-12-31T23:59:59-23:59', set(vital(), 'occurredAt', '9999-12-31T23:59:59-23:59'), 'future_event');
  add('occurredAt an hour ahead', set(vital(), 'occurredAt', iso(now + 60 * MINUTE)), 'future_event');
  add('occurredAt 10 minutes ahead', set(vital(), 'occurredAt', iso(now + 10 * MINUTE)), 'future_event');
  add('occurredAt a minute ahead (within the skew)', set(vital(), 'occurredAt', iso(now + MINUTE)), 'scored');
  add('occurredAt 2026-02-30 (no such day)', set(vital(), 'occurredAt', '2026-02-30T08:00:00Z'), 'schema_invalid');
  add('occurredAt hour 25', set(vital(), 'occurredAt', '2026-01-05T25:00:00Z'), 'schema_invalid');
  add('occurredAt offset +24:00', set(vital(), 'occurredAt', '2026-01-05T08:00:00+24:00'), 'schema_invalid');
  add('occurredAt year 0000', set(vital(), 'occurredAt', '0000-01-01T00:00:00Z'), 'schema_invalid');
  add('occurredAt 1899-12-31', set(vital(), 'occurredAt', '1899-12-31T23:59:59Z'), 'schema_invalid');
  add('occurredAt 1900-01-01 (old, but a date)', set(vital(), 'occurredAt', '1900-01-01T00:00:00Z'), 'scored');
  add('occurredAt with nanoseconds', set(vital(), 'occurredAt', at.replace('Z', '').replace(/(\.\d+)?$/, '.123456789Z')), 'scored');

  // Extreme numbers.
  add('heart rate -1', vital({ value: -1 }), 'implausible_value');
  add('heart rate 301', vital({ value: 301 }), 'implausible_value');
  add('heart rate 0 (asystole is plausible)', vital({ value: 0 }), 'scored');
  add('heart rate 5e-324', vital({ value: 5e-324 }), 'scored');
  add('heart rate 1e12 (the schema maximum)', vital({ value: 1e12 }), 'implausible_value');
  add('heart rate 1e13', vital({ value: 1e13 }), 'schema_invalid');
  add('heart rate 1e308', vital({ value: 1e308 }), 'schema_invalid');
  add('heart rate -1e308', vital({ value: -1e308 }), 'schema_invalid');
  addText('heart rate 1e999 (Infinity in JSON)', JSON.stringify(vital()).replace('"value":88', '"value":1e999'), 'schema_invalid');
  add('temperature 212 °F', vital({ kind: 'temperature', value: 212, unit: '°F' }), 'implausible_value');
  add('temperature 98.6 °F (converted)', vital({ kind: 'temperature', value: 98.6, unit: '°F' }), 'scored');
  add('temperature 99 charted as °C (repaired)', vital({ kind: 'temperature', value: 99, unit: 'Cel' }), 'scored');
  add('FiO2 60 charted as a fraction (repaired)', vital({ kind: 'fio2', value: 60, unit: '1' }), 'scored');
  add('GCS 2.5', vital({ kind: 'gcs', value: 2.5, unit: '{score}' }), 'implausible_value');
  add('ACVPU 7', vital({ kind: 'avpu', value: 7, unit: '{ACVPU}' }), 'implausible_value');
  add('SpO2 101 %', vital({ kind: 'spo2', value: 101, unit: '%' }), 'implausible_value');
  add('sodium 1e12', lab({ value: 1e12 }), 'implausible_value');
  add('heart rate in furlongs', vital({ unit: 'furlongs' }), 'unknown_unit');
  add('heart rate in mmHg', vital({ unit: 'mmHg' }), 'unknown_unit');

  // Wrong schema versions.
  for (const version of [2, 0, -1, 1e308]) add(`schemaVersion ${version}`, set(vital(), 'schemaVersion', version), 'unsupported_schema_version');
  add('schemaVersion 1.0 (the same number)', set(vital(), 'schemaVersion', 1.0), 'scored');

  // Odd but valid.
  addText('duplicate JSON keys (the last one counts)', JSON.stringify(vital()).replace('{"schema"', '{"eventId":"pz-dupkey-overridden","schema"'), 'scored');
  add('a lone surrogate in a note', note({ text: 'before \ud800 after' }), 'scored');
  add('a lone surrogate in a patient id', { ...vital(), patientId: 'p\ud800' }, 'schema_invalid');
  add('a NUL character in a unit', vital({ unit: '\u0000' }), 'unknown_unit');
  return cases;
}

/**
 * A valid feature vector of the served set (every name, some values; its NEWS2 parts what
 * NEWS2 scores its vital signs, the total their sum), for the features topic.
 */
export function validVector(tag: string, n: number, at: string): FeatureVectorEvent {
  const named: Record<string, number | null> = Object.fromEntries(FEATURE_NAMES.map((name) => [name, null]));
  Object.assign(named, { heart_rate: 70 + (n % 40), respiratory_rate: 14 + (n % 10) });
  const features = news2FromSnapshotVitals(named).features;
  return {
    schema: 'feature_vector',
    schemaVersion: 1,
    eventId: `pz-vector-${tag}-${n}`,
    patientId: `PZV-${tag}-${n}`,
    encounterId: null,
    occurredAt: at,
    producedAt: new Date().toISOString(),
    source: 'feature-service',
    payload: { featureSetVersion: FEATURE_SET_VERSION, asOf: at, triggerEventId: `pz-vector-trigger-${tag}-${n}`, features, context: { unit: null, department: null, spo2Scale: 1 } },
  };
}

/** Feature-vector poison (the scoring service's input), from a valid vector. */
export function vectorCases(tag: string, at: string): PoisonCase[] {
  let n = 0;
  const v = () => validVector(`${tag}-p`, ++n, at) as unknown as Json;
  const withPayload = (changes: Json): Json => {
    const base = v();
    return { ...base, payload: { ...(base.payload as Json), ...changes } };
  };
  const withFeatures = (change: (f: Json) => void): Json => {
    const base = v();
    const features = { ...((base.payload as Json).features as Json) };
    change(features);
    return { ...base, payload: { ...(base.payload as Json), features } };
  };
  const cases: PoisonCase[] = [];
  const add = (name: string, value: Buffer, expect: Outcome) => cases.push({ name, value, expect });
  add('vector: not JSON', bytes('not a vector'), 'unparseable');
  add('vector: empty value', Buffer.alloc(0), 'unparseable');
  add('vector: invalid UTF-8', Buffer.concat([bytes('{"schema":"feature_vector","x":"'), Buffer.from([0xff, 0xfe]), bytes('"}')]), 'unparseable');
  add('vector: JSON null', bytes('null'), 'schema_invalid');
  add('vector: JSON array', bytes('[1]'), 'schema_invalid');
  add('vector: no payload', json({ ...v(), payload: undefined }), 'schema_invalid');
  add('vector: no features', json(withPayload({ features: undefined })), 'schema_invalid');
  add('vector: features as an array', json(withPayload({ features: [1, 2] })), 'schema_invalid');
  add('vector: a feature value as a string', json(withFeatures((f) => (f.heart_rate = '88'))), 'schema_invalid');
  add('vector: no featureSetVersion', json(withPayload({ featureSetVersion: undefined })), 'schema_invalid');
  add('vector: schema "toString"', json({ ...v(), schema: 'toString' }), 'schema_invalid');
  add('vector: schemaVersion 2', json({ ...v(), schemaVersion: 2 }), 'schema_invalid');
  add('vector: patient id "#offset/0"', json({ ...v(), patientId: '#offset/0' }), 'schema_invalid');
  add('vector: asOf "soon"', json(withPayload({ asOf: 'soon' })), 'schema_invalid');
  add('vector: 100,000-deep arrays', bytes(nestedArrays(100_000)), 'schema_invalid');
  add('vector: a 900 KB trigger id', json(withPayload({ triggerEventId: 't'.repeat(900_000) })), 'schema_invalid');
  add('vector: feature set 0.9.0', json(withPayload({ featureSetVersion: '0.9.0' })), 'feature_set_mismatch');
  add('vector: an unknown feature "pulse"', json(withFeatures((f) => (f.pulse = 80))), 'feature_set_mismatch');
  add('vector: a feature named "__proto__"', bytes(JSON.stringify(v()).replace('"features":{', '"features":{"__proto__":1,')), 'feature_set_mismatch');
  add('vector: a feature named "constructor"', bytes(JSON.stringify(v()).replace('"features":{', '"features":{"constructor":1,')), 'feature_set_mismatch');
  add('vector: one feature missing', json(withFeatures((f) => delete f.heart_rate)), 'feature_set_mismatch');
  add('vector: an extreme feature value (1e308)', json(withFeatures((f) => (f.shock_index = 1e308))), 'scored');
  // NEWS2 parts of 0 beside vitals NEWS2 scores 9: served low before.
  add('vector: NEWS2 parts its own vitals contradict', json(withFeatures((f) => Object.assign(f, { respiratory_rate: 30, systolic_bp: 85, heart_rate: 140, news2_respiratory_rate: 0, news2_systolic_bp: 0, news2_heart_rate: 0, news2_total: 0 }))), 'implausible_value');
  add('vector: NEWS2 total 999', json(withFeatures((f) => (f.news2_total = 999))), 'implausible_value');
  // Parts summing to 8 (emergency) under a total of 0: the served band's floor reads the total.
  add('vector: a NEWS2 total below its parts', json(withFeatures((f) => Object.assign(f, { news2_respiratory_rate: 3, news2_systolic_bp: 3, news2_heart_rate: 2, news2_total: 0 }))), 'implausible_value');
  return cases;
}

/** A valid severity score (NEWS2 alone, as scoring makes one), for the scores topic. */
export function validScore(tag: string, n: number, at: string): SeverityScoreEvent {
  const vector = validVector(`${tag}-score`, n, at);
  return scoreVector(vector, null, { topK: 0, now: () => new Date() }).score;
}

/** Severity-score poison (the sink's and the dashboard's input). */
export function scoreCases(tag: string, at: string): PoisonCase[] {
  let n = 0;
  const s = () => validScore(`${tag}-p`, ++n, at) as unknown as Json;
  const withPayload = (changes: Json): Json => {
    const base = s();
    return { ...base, payload: { ...(base.payload as Json), ...changes } };
  };
  const cases: PoisonCase[] = [];
  const add = (name: string, value: Buffer, expect: Outcome) => cases.push({ name, value, expect });
  add('score: not JSON', bytes('not a score'), 'unparseable');
  add('score: empty value', Buffer.alloc(0), 'unparseable');
  add('score: invalid UTF-8', Buffer.concat([bytes('{"schema":"severity_score","x":"'), Buffer.from([0xc3, 0x28]), bytes('"}')]), 'unparseable');
  add('score: JSON null', bytes('null'), 'schema_invalid');
  add('score: JSON array', bytes('[]'), 'schema_invalid');
  add('score: no payload', json({ ...s(), payload: undefined }), 'schema_invalid');
  add('score: band "critical"', json(withPayload({ band: 'critical' })), 'schema_invalid');
  add('score: probability 1.5', json(withPayload({ probability: 1.5 })), 'schema_invalid');
  add('score: probability "high"', json(withPayload({ probability: 'high' })), 'schema_invalid');
  add('score: NEWS2 21', json(withPayload({ news2: 21 })), 'schema_invalid');
  add('score: patient id "#offset/0"', json({ ...s(), patientId: '#offset/0' }), 'schema_invalid');
  add('score: schema "__proto__"', json({ ...s(), schema: '__proto__' }), 'schema_invalid');
  add('score: 100,000-deep arrays', bytes(nestedArrays(100_000)), 'schema_invalid');
  add('score: 51 top features', json(withPayload({ topFeatures: Array.from({ length: 51 }, () => ({ feature: 'x', value: 1, contribution: 0 })) })), 'schema_invalid');
  return cases;
}

/** A valid dead letter from another system, for the dead-letter topic. */
export function validDeadLetter(tag: string, n: number): DeadLetter {
  return buildDeadLetter(
    { topic: 'external.audit', partition: null, offset: null, key: null, value: Buffer.from(`external record ${tag}-${n}`) },
    { service: 'external', reason: 'schema_invalid', error: 'refused upstream' },
  );
}

/** Dead-letter poison (the sink's input): the sink keeps each one as its own dead letter, with the reason. */
export function deadLetterCases(tag: string): PoisonCase[] {
  let n = 0;
  const d = () => validDeadLetter(`${tag}-p`, ++n) as unknown as Json;
  const cases: PoisonCase[] = [];
  const add = (name: string, value: Buffer, expect: Outcome) => cases.push({ name, value, expect });
  add('dead letter: not JSON', bytes('not a dead letter'), 'unparseable');
  add('dead letter: empty value', Buffer.alloc(0), 'unparseable');
  add('dead letter: invalid UTF-8', Buffer.from([0x7b, 0xff, 0x00, 0x22]), 'unparseable');
  add('dead letter: JSON null', bytes('null'), 'schema_invalid');
  add('dead letter: JSON array', bytes('[{"reason":"late_event"}]'), 'schema_invalid');
  add('dead letter: no reason', json({ ...d(), reason: undefined }), 'schema_invalid');
  add('dead letter: reason "toString"', json({ ...d(), reason: 'toString' }), 'schema_invalid');
  add('dead letter: reason "__proto__"', json({ ...d(), reason: '__proto__' }), 'schema_invalid');
  add('dead letter: sourcePartition -1', json({ ...d(), sourcePartition: -1 }), 'schema_invalid');
  add('dead letter: a 5,000-character error', json({ ...d(), error: 'e'.repeat(5000) }), 'schema_invalid');
  add('dead letter: 51 details', json({ ...d(), details: Array.from({ length: 51 }, () => ({ path: '$', message: 'x' })) }), 'schema_invalid');
  add('dead letter: no originalBytes', json({ ...d(), originalBytes: undefined }), 'schema_invalid');
  add('dead letter: 50,000-deep objects', bytes(nestedObjects(50_000)), 'schema_invalid');
  return cases;
}

/** A FHIR case: the resource, the door's status, and (when accepted) what becomes of its event. */
export interface FhirCase {
  name: string;
  body: string;
  /** 202 accepted, 200 valid but nothing used, 400 refused (with this text in an issue). */
  status: 202 | 200 | 400;
  refusal?: RegExp;
  /** For 202: the patient whose event it is, and its outcome. */
  patientId?: string;
  expect?: Outcome;
}

/** FHIR R4 Observations made bad from a valid heart rate, one patient each (`FZ-<tag>-<n>`). */
export function fhirCases(tag: string, at: string, now: number): FhirCase[] {
  let n = 0;
  const observation = (change: (o: Json, patientId: string) => void = () => undefined) => {
    const patientId = `FZ-${tag}-${++n}`;
    const o: Json = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: at,
      valueQuantity: { value: 92, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    change(o, patientId);
    return { o, patientId };
  };
  const cases: FhirCase[] = [];
  const accepted = (name: string, change: (o: Json) => void, expect: Outcome) => {
    const { o, patientId } = observation(change);
    cases.push({ name, body: JSON.stringify(o), status: 202, patientId, expect });
  };
  const refused = (name: string, change: (o: Json) => void, refusal: RegExp) => cases.push({ name, body: JSON.stringify(observation(change).o), status: 400, refusal });
  const quantity = (o: Json, q: Json) => (o.valueQuantity = { ...(o.valueQuantity as Json), ...q });

  accepted('FHIR: a valid heart rate', () => undefined, 'scored');
  accepted('FHIR: valueQuantity.code "__proto__"', (o) => quantity(o, { code: '__proto__' }), 'unknown_unit');
  accepted('FHIR: valueQuantity.code "constructor"', (o) => quantity(o, { code: 'constructor' }), 'unknown_unit');
  accepted('FHIR: valueQuantity.code "toString"', (o) => quantity(o, { code: 'toString' }), 'unknown_unit');
  accepted('FHIR: heart rate -5', (o) => quantity(o, { value: -5 }), 'implausible_value');
  refused('FHIR: effective an hour ahead', (o) => (o.effectiveDateTime = new Date(now + 3_600_000).toISOString()), /future_event/);
  refused('FHIR: effective 9999-12-31T23:59:59-23:59', (o) => (o.effectiveDateTime = '9999-12-31T23:59:59-23:59'), /future_event/);
  refused('FHIR: value 1e308', (o) => quantity(o, { value: 1e308 }), /schema_invalid/);
  refused('FHIR: value "fast"', (o) => quantity(o, { value: 'fast' }), /must be a number/);
  refused('FHIR: no subject', (o) => delete o.subject, /subject/);
  refused('FHIR: subject Patient/__proto__', (o) => (o.subject = { reference: 'Patient/__proto__' }), /subject/);
  refused('FHIR: no effective time', (o) => delete o.effectiveDateTime, /when it was measured/);
  refused('FHIR: effective 2026-02-30', (o) => (o.effectiveDateTime = '2026-02-30T08:00:00Z'), /no such day/);
  refused('FHIR: resourceType Patient', (o) => (o.resourceType = 'Patient'), /expected Observation/);
  refused('FHIR: no valueQuantity', (o) => delete o.valueQuantity, /valueQuantity/);
  refused('FHIR: status "bogus"', (o) => (o.status = 'bogus'), /unknown status/);
  cases.push({ name: 'FHIR: not JSON', body: '{"resourceType": "Observation",', status: 400 });
  cases.push({ name: 'FHIR: "__proto__" key in the body', body: JSON.stringify(observation().o).replace('{"resourceType"', '{"__proto__":{"x":1},"resourceType"'), status: 400 });
  {
    const { o } = observation((x) => ((x.code as Json).coding = [{ system: 'http://snomed.info/sct', code: '364075005' }]));
    cases.push({ name: 'FHIR: a code the pipeline does not use (reported, not accepted)', body: JSON.stringify(o), status: 200 });
  }
  return cases;
}
