// The cohort CSV format: one file per kind of event, plus patients, labels and cohort.json.
// Every event row carries event_id, patient_id, encounter_id, time (when it happened),
// available_time (when the source delivered it), artefact and seq (its position in the
// stream, by which the reader merges the files back into one stream). See README.md.
import { isEventTimestamp, type ClinicalNoteEvent, type LabResultEvent, type RawEvent, type VitalSignEvent } from '@ehr/features';
import { COURSES, OUTCOMES, SEVERE_OUTCOME_TYPES, type CohortEvent, type Label, type PatientRecord } from '../types.js';

export const FILES = {
  meta: 'cohort.json',
  patients: 'patients.csv',
  vitals: 'vitals.csv',
  labs: 'labs.csv',
  notes: 'notes.csv',
  encounters: 'encounters.csv',
  labels: 'labels.csv',
} as const;

export type EventFile = 'vitals' | 'labs' | 'notes' | 'encounters';
export const EVENT_FILES: readonly EventFile[] = ['encounters', 'vitals', 'labs', 'notes'];

const COMMON = ['seq', 'event_id', 'patient_id', 'encounter_id', 'time', 'available_time', 'artefact'] as const;

export const COLUMNS = {
  patients: ['patient_id', 'encounter_id', 'gender', 'age', 'admission_type', 'unit', 'department', 'spo2_scale', 'admit_time', 'course', 'onset_time', 'event_time', 'outcome', 'outcome_time'],
  vitals: [...COMMON, 'kind', 'value', 'unit', 'method'],
  labs: [...COMMON, 'kind', 'value', 'unit', 'loinc', 'item_id'],
  notes: [...COMMON, 'category', 'author', 'text'],
  encounters: [...COMMON, 'event', 'admission_type', 'unit', 'department', 'gender', 'age', 'spo2_scale', 'from_unit', 'to_unit', 'icu', 'outcome', 'location'],
  labels: ['patient_id', 'encounter_id', 'time', 'label', 'hours_to_event', 'event_type'],
} as const satisfies Record<string, readonly string[]>;

export type Row = Record<string, string>;

const str = (v: string | number | boolean | null | undefined): string => (v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v));

export function fileOf(event: RawEvent): EventFile {
  switch (event.schema) {
    case 'vital_sign':
      return 'vitals';
    case 'lab_result':
      return 'labs';
    case 'clinical_note':
      return 'notes';
    default:
      return 'encounters';
  }
}

export function eventToRow(record: CohortEvent, seq: number): Row {
  const e = record.event;
  const row: Row = {
    seq: String(seq),
    event_id: e.eventId,
    patient_id: e.patientId,
    encounter_id: str(e.encounterId),
    time: e.occurredAt,
    available_time: record.availableAt,
    artefact: str(record.artefact),
  };
  switch (e.schema) {
    case 'vital_sign':
      return { ...row, kind: e.payload.kind, value: str(e.payload.value), unit: e.payload.unit, method: str(e.payload.method) };
    case 'lab_result':
      return { ...row, kind: e.payload.kind, value: str(e.payload.value), unit: e.payload.unit, loinc: str(e.payload.loinc), item_id: str(e.payload.itemId) };
    case 'clinical_note':
      return { ...row, category: e.payload.category, author: str(e.payload.author), text: e.payload.text };
    case 'admission': {
      const p = e.payload;
      return { ...row, event: 'admission', admission_type: p.admissionType, unit: p.unit, department: str(p.department), gender: str(p.gender), age: str(p.age), spo2_scale: str(p.spo2Scale) };
    }
    case 'transfer': {
      const p = e.payload;
      return { ...row, event: 'transfer', from_unit: str(p.fromUnit), to_unit: p.toUnit, icu: str(p.icu), spo2_scale: str(p.spo2Scale) };
    }
    case 'discharge':
      return { ...row, event: 'discharge', outcome: e.payload.outcome, location: str(e.payload.location) };
  }
}

/** A CSV row that cannot become an event, with where it is. */
export class CohortFormatError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'CohortFormatError';
  }
}

const num = (v: string | undefined, what: string): number => {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new Error(`${what}: not a number: ${JSON.stringify(v)}`);
  return n;
};
const opt = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
const optNum = (v: string | undefined, what: string) => (opt(v) === undefined ? undefined : num(v, what));
/** Only defined properties, so a read event deep-equals the written one. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function rowToEvent(file: EventFile, row: Row, source: RawEvent['source']): { record: CohortEvent; seq: number } {
  const base = {
    schemaVersion: 1 as const,
    eventId: row.event_id ?? '',
    patientId: row.patient_id ?? '',
    encounterId: opt(row.encounter_id) ?? null,
    occurredAt: row.time ?? '',
    producedAt: opt(row.available_time) ?? row.time ?? '',
    source,
  };
  let event: RawEvent;
  switch (file) {
    case 'vitals':
      event = { schema: 'vital_sign', ...base, payload: defined({ kind: row.kind, value: num(row.value, 'value'), unit: row.unit ?? '', method: opt(row.method) }) } as VitalSignEvent;
      break;
    case 'labs':
      event = { schema: 'lab_result', ...base, payload: defined({ kind: row.kind, value: num(row.value, 'value'), unit: row.unit ?? '', loinc: opt(row.loinc), itemId: optNum(row.item_id, 'item_id') }) } as LabResultEvent;
      break;
    case 'notes':
      event = { schema: 'clinical_note', ...base, payload: defined({ category: row.category, text: row.text ?? '', author: opt(row.author) }) } as ClinicalNoteEvent;
      break;
    case 'encounters':
      event = encounterEvent(row, base);
      break;
  }
  const artefact = opt(row.artefact) ?? null;
  return { record: { event, availableAt: base.producedAt, artefact: artefact as CohortEvent['artefact'] }, seq: optNum(row.seq, 'seq') ?? -1 };
}

function encounterEvent(row: Row, base: Omit<RawEvent, 'schema' | 'payload'>): RawEvent {
  switch (row.event) {
    case 'admission':
      return {
        schema: 'admission',
        ...base,
        payload: defined({
          admissionType: row.admission_type ?? '',
          unit: row.unit ?? '',
          department: opt(row.department),
          gender: opt(row.gender) as 'F' | 'M' | 'U' | undefined,
          age: optNum(row.age, 'age'),
          spo2Scale: optNum(row.spo2_scale, 'spo2_scale') as 1 | 2 | undefined,
        }),
      };
    case 'transfer':
      return {
        schema: 'transfer',
        ...base,
        payload: defined({ fromUnit: opt(row.from_unit), toUnit: row.to_unit ?? '', icu: row.icu === 'true', spo2Scale: optNum(row.spo2_scale, 'spo2_scale') as 1 | 2 | undefined }),
      };
    case 'discharge':
      return { schema: 'discharge', ...base, payload: defined({ outcome: row.outcome as 'home', location: opt(row.location) }) };
    default:
      throw new Error(`event: expected admission, transfer or discharge, got ${JSON.stringify(row.event)}`);
  }
}

export function patientToRow(p: PatientRecord): Row {
  return {
    patient_id: p.patientId,
    encounter_id: p.encounterId,
    gender: p.gender,
    age: String(p.age),
    admission_type: p.admissionType,
    unit: p.unit,
    department: p.department,
    spo2_scale: String(p.spo2Scale),
    admit_time: p.admitTime,
    course: p.course,
    onset_time: str(p.onsetTime),
    event_time: str(p.eventTime),
    outcome: p.outcome,
    outcome_time: str(p.outcomeTime),
  };
}

// The ground truth labels are made from: a value read loosely (`Died`, `spo2_scale=7`, an
// event time of `soon`) became a wrong label, or a failure far from the file. Values are
// exactly as README.md documents them (case-sensitive), times RFC 3339 with an offset.
const oneOf = <T extends string>(v: string | undefined, allowed: readonly T[], what: string): T => {
  if (v === undefined || !(allowed as readonly string[]).includes(v)) throw new Error(`${what}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
};
const timestamp = (v: string | undefined, what: string): string => {
  if (v === undefined || !isEventTimestamp(v)) throw new Error(`${what}: not an RFC 3339 time with an offset (2026-01-05T06:13:00Z): ${JSON.stringify(v)}`);
  return v;
};
const optTimestamp = (v: string | undefined, what: string): string | null => (opt(v) === undefined ? null : timestamp(v, what));
const required = (v: string | undefined, what: string): string => {
  if (!v) throw new Error(`${what}: required`);
  return v;
};
const MAX_AGE = 130;

export function rowToPatient(row: Row): PatientRecord {
  const age = num(row.age, 'age');
  if (age < 0 || age > MAX_AGE) throw new Error(`age: expected 0 to ${MAX_AGE} years, got ${age}`);
  return {
    patientId: required(row.patient_id, 'patient_id'),
    encounterId: required(row.encounter_id, 'encounter_id'),
    gender: oneOf(row.gender, ['F', 'M'], 'gender'),
    age,
    admissionType: row.admission_type ?? '',
    unit: row.unit ?? '',
    department: row.department ?? '',
    spo2Scale: oneOf(row.spo2_scale, ['1', '2'], 'spo2_scale') === '2' ? 2 : 1,
    admitTime: timestamp(row.admit_time, 'admit_time'),
    course: oneOf(row.course, COURSES, 'course'),
    onsetTime: optTimestamp(row.onset_time, 'onset_time'),
    eventTime: optTimestamp(row.event_time, 'event_time'),
    outcome: oneOf(row.outcome, OUTCOMES, 'outcome'),
    outcomeTime: optTimestamp(row.outcome_time, 'outcome_time'),
  };
}

export function labelToRow(l: Label): Row {
  return { patient_id: l.patientId, encounter_id: l.encounterId, time: l.time, label: String(l.label), hours_to_event: str(l.hoursToEvent), event_type: str(l.eventType) };
}

export function rowToLabel(row: Row): Label {
  return {
    patientId: row.patient_id ?? '',
    encounterId: row.encounter_id ?? '',
    time: timestamp(row.time, 'time'),
    // Anything but `1` was a 0: a `yes` or `2` became a negative example.
    label: oneOf(row.label, ['0', '1'], 'label') === '1' ? 1 : 0,
    hoursToEvent: optNum(row.hours_to_event, 'hours_to_event') ?? null,
    eventType: opt(row.event_type) === undefined ? null : oneOf(row.event_type, SEVERE_OUTCOME_TYPES, 'event_type'),
  };
}
