// Demographics the way EHRs send them beside Observations in a Bundle: a `Patient` (gender,
// birthDate) and an `Encounter` (period.start, location, class, partOf). Each Encounter
// becomes an admission event (unit, sex, age at the start, and the hospital admission time
// when it is part of a longer Encounter in the same Bundle); a finished one also a discharge.
import { deterministicId, type DischargeOutcome, type RawEvent } from '@ehr/features';
import { iso } from '../time.js';
import { realDay } from './day.js';
import type { FhirIssue, ObservationMapping } from './types.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export interface BundleResource {
  index: number;
  fullUrl: string | null;
  resource: Json;
}

/**
 * `Patient/123`, `…/Patient/123`, or `urn:uuid:…` → the id; a uuid the Bundle gives an id
 * (`aliases`) → that id. Observation.subject and .encounter read references by this rule too.
 */
export function refId(ref: unknown, type: string, aliases?: ReadonlyMap<string, string>): string | null {
  if (!isObject(ref) || typeof ref.reference !== 'string') return null;
  const r = ref.reference;
  const urn = /^urn:uuid:([0-9a-fA-F-]{36})$/.exec(r);
  if (urn) return aliases?.get(urn[1]!.toLowerCase()) ?? urn[1]!.toLowerCase();
  const m = new RegExp(`(?:^|/)${type}/([^/]+)(?:/_history/[^/]+)?$`).exec(r);
  return m && FHIR_ID.test(m[1]!) ? m[1]! : null;
}

/** The uuid (lower case) of a `urn:uuid:…` fullUrl, else null. */
export function fullUrlUuid(fullUrl: string | null): string | null {
  const urn = fullUrl ? /^urn:uuid:([0-9a-fA-F-]{36})$/.exec(fullUrl) : null;
  return urn ? urn[1]!.toLowerCase() : null;
}

/** The ids a resource answers to inside the Bundle: its id, and its fullUrl's uuid. */
function idsOf(r: BundleResource): string[] {
  const ids: string[] = [];
  if (typeof r.resource.id === 'string') ids.push(r.resource.id);
  const uuid = fullUrlUuid(r.fullUrl);
  if (uuid) ids.push(uuid);
  return ids;
}

/**
 * The `urn:uuid` (lower case) → id of every entry of one resource type that has both, so that
 * a reference by the uuid and one by the id name the same resource.
 */
export function bundleAliases(entries: readonly BundleResource[], resourceType: string): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const e of entries) {
    const uuid = fullUrlUuid(e.fullUrl);
    if (e.resource.resourceType === resourceType && uuid && typeof e.resource.id === 'string' && FHIR_ID.test(e.resource.id)) aliases.set(uuid, e.resource.id);
  }
  return aliases;
}

/**
 * The encounterId an Encounter's events carry: its id, else what its fullUrl names (the uuid
 * of `urn:uuid:…`, the id of `…/Encounter/123`) — what an Observation's reference to it by
 * that fullUrl resolves to, so one stay keeps one id.
 */
function encounterIdOf(e: BundleResource): string | null {
  const id = e.resource.id;
  return typeof id === 'string' && FHIR_ID.test(id) ? id : refId({ reference: e.fullUrl }, 'Encounter');
}

const text = (concept: unknown): string | null => {
  if (!isObject(concept)) return null;
  if (Array.isArray(concept.coding)) {
    for (const c of concept.coding) if (isObject(c) && typeof (c.display ?? c.code) === 'string') return String(c.display ?? c.code);
  }
  return typeof concept.text === 'string' ? concept.text : typeof concept.display === 'string' ? concept.display : typeof concept.code === 'string' ? concept.code : null;
};

const category = (s: string | null) => (s ?? '').trim().slice(0, 64);

function ageAt(birthDate: string, at: number): number | undefined {
  const birth = Date.parse(birthDate.length === 4 ? `${birthDate}-07-01` : birthDate.length === 7 ? `${birthDate}-15` : birthDate);
  if (!Number.isFinite(birth) || birth > at) return undefined;
  return Math.min(130, Math.floor((at - birth) / (365.25 * 86_400_000)));
}

const DISPOSITIONS = new Map<string, DischargeOutcome>([
  ['home', 'home'],
  ['exp', 'died'],
  ['snf', 'facility'],
  ['rehab', 'facility'],
  ['long', 'facility'],
  ['hosp', 'transferred'],
  ['other-hcf', 'transferred'],
]);

/**
 * Maps the Patient and Encounter entries of a Bundle. Returns one mapping per entry index.
 * A Patient yields no event of its own: its gender and birth date go on the admission of
 * every Encounter whose subject it is.
 */
export function mapDemographicEntries(
  entries: readonly BundleResource[],
  receivedAt: Date = new Date(),
  patientAliases?: ReadonlyMap<string, string>,
  encounterAliases?: ReadonlyMap<string, string>,
): Map<number, ObservationMapping> {
  const out = new Map<number, ObservationMapping>();
  const patients = new Map<string, Json>();
  const encounters = new Map<string, Json>();
  for (const e of entries) {
    if (e.resource.resourceType === 'Patient') for (const id of idsOf(e)) patients.set(id, e.resource);
    if (e.resource.resourceType === 'Encounter') for (const id of idsOf(e)) encounters.set(id, e.resource);
  }
  const produced = iso(Math.floor(receivedAt.getTime() / 1000) * 1000);
  const used = new Set<Json>();
  for (const e of entries) {
    if (e.resource.resourceType !== 'Encounter') continue;
    const path = `Bundle.entry[${e.index}].resource`;
    const r = e.resource;
    const issues: FhirIssue[] = [];
    const fail = () => out.set(e.index, { valid: false, events: [], issues, unsupported: [] });
    const patientId = refId(r.subject, 'Patient', patientAliases);
    if (!patientId) issues.push({ severity: 'error', code: 'required', expression: `${path}.subject`, diagnostics: 'subject must reference a Patient (Patient/<id> or urn:uuid:<uuid>)' });
    const period = isObject(r.period) ? r.period : null;
    const startText = period && typeof period.start === 'string' ? period.start : null;
    if (!startText || !DATE_TIME.test(startText) || Number.isNaN(Date.parse(startText))) {
      issues.push({ severity: 'error', code: startText ? 'value' : 'required', expression: `${path}.period.start`, diagnostics: 'when the stay began (a dateTime with a time zone) is required' });
    } else if (!realDay(startText)) {
      issues.push({ severity: 'error', code: 'value', expression: `${path}.period.start`, diagnostics: `no such day: ${JSON.stringify(startText).slice(0, 80)}` });
    }
    if (issues.length > 0) {
      fail();
      continue;
    }
    const status = typeof r.status === 'string' ? r.status : 'unknown';
    if (status === 'cancelled' || status === 'entered-in-error' || status === 'planned') {
      out.set(e.index, { valid: true, events: [], issues: [{ severity: 'warning', code: 'informational', expression: `${path}.status`, diagnostics: `status ${status}: no admission` }], unsupported: [] });
      continue;
    }
    const start = Date.parse(startText!);
    const patient = patients.get(patientId!);
    if (patient) used.add(patient);
    const gender = patient?.gender === 'female' ? 'F' : patient?.gender === 'male' ? 'M' : 'U';
    const birthDate = typeof patient?.birthDate === 'string' && DATE.test(patient.birthDate) ? patient.birthDate : null;
    const age = birthDate ? ageAt(birthDate, start) : undefined;
    const locations = Array.isArray(r.location) ? r.location.filter(isObject) : [];
    const unit = category(text(locations[0]?.location) ?? text(r.serviceProvider)) || 'UNKNOWN';
    const admissionType = category(text(r.class) ?? text(Array.isArray(r.type) ? r.type[0] : null)) || 'unknown';
    const department = category(text(r.serviceType));
    const parentId = refId(r.partOf, 'Encounter', encounterAliases);
    const parent = parentId ? encounters.get(parentId) : undefined;
    const parentStart = parent && isObject(parent.period) && typeof parent.period.start === 'string' ? Date.parse(parent.period.start) : NaN;
    const encounterId = encounterIdOf(e);
    const identity = typeof r.id === 'string' && FHIR_ID.test(r.id) ? r.id : deterministicId('fhir-json', JSON.stringify(r));
    const envelope = (t: number, part: string) => ({
      schemaVersion: 1 as const,
      eventId: deterministicId('fhir', patientId!, `encounter:${identity}`, part),
      patientId: patientId!,
      encounterId,
      occurredAt: iso(t),
      producedAt: produced,
      source: 'fhir' as const,
    });
    const events: RawEvent[] = [
      {
        schema: 'admission',
        ...envelope(start, 'admission'),
        payload: {
          admissionType,
          unit,
          ...(department ? { department } : {}),
          gender,
          ...(age === undefined ? {} : { age }),
          ...(Number.isFinite(parentStart) && parentStart <= start ? { hospitalAdmitTime: iso(parentStart) } : {}),
        },
      },
    ];
    if (!patient) issues.push({ severity: 'information', code: 'informational', expression: `${path}.subject`, diagnostics: 'no Patient for this subject in the Bundle: sex and age unknown' });
    const endText = period && typeof period.end === 'string' ? period.end : null;
    // A finished stay whose end cannot be read makes no discharge: say so, or the stay stays open unremarked.
    const endProblem =
      status !== 'finished'
        ? null
        : !endText
          ? 'the stay is finished but has no period.end'
          : !DATE_TIME.test(endText) || Number.isNaN(Date.parse(endText))
            ? 'period.end is not a dateTime with a time zone'
            : !realDay(endText)
              ? 'period.end is a day that does not exist'
              : Date.parse(endText) < start
                ? 'period.end is before period.start'
                : null;
    if (endProblem) issues.push({ severity: 'warning', code: 'value', expression: `${path}.period.end`, diagnostics: `${endProblem}: no discharge event (the admission is kept)` });
    if (status === 'finished' && !endProblem && endText) {
      const hosp = isObject(r.hospitalization) ? r.hospitalization : null;
      const code = hosp && isObject(hosp.dischargeDisposition) && Array.isArray(hosp.dischargeDisposition.coding) ? hosp.dischargeDisposition.coding.find(isObject)?.code : undefined;
      const outcome = (typeof code === 'string' ? DISPOSITIONS.get(code) : undefined) ?? 'other';
      events.push({ schema: 'discharge', ...envelope(Date.parse(endText), 'discharge'), payload: { outcome, location: unit } });
    }
    out.set(e.index, { valid: true, events, issues, unsupported: [] });
  }
  for (const e of entries) {
    if (e.resource.resourceType !== 'Patient') continue;
    const path = `Bundle.entry[${e.index}].resource`;
    const issues: FhirIssue[] = used.has(e.resource)
      ? [{ severity: 'information', code: 'informational', expression: path, diagnostics: 'Patient demographics (gender, birthDate) used by the Encounter(s) of the Bundle' }]
      : [{ severity: 'warning', code: 'not-supported', expression: path, diagnostics: 'a Patient alone is not ingested: its demographics go with an Encounter of the same Bundle (whose period.start dates the admission), and none refers to it' }];
    out.set(e.index, { valid: true, events: [], issues, unsupported: [] });
  }
  return out;
}
