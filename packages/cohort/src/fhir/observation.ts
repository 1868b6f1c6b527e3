// FHIR R4 Observations (vital signs and laboratory, coded in LOINC) → raw events.
// Checks what the pipeline relies on, naming the element (FHIRPath) and the reason;
// reports codes it does not use instead of dropping them silently.
import type { BundleEntry, OperationOutcome } from 'fhir/r4.js';
import type { FhirIssue, ObservationMapping, UnsupportedCode } from './types.js';
import { deterministicId, type RawEvent } from '@ehr/features';
import { BP_PANEL_LOINC, LOINC_SIGNALS, type SignalRef } from '../codes.js';
import { iso } from '../time.js';
import { realDay } from './day.js';
import { bundleAliases, mapDemographicEntries, refId, type BundleResource } from './encounter.js';

export const LOINC_SYSTEM = 'http://loinc.org';

export type { FhirIssue, IssueSeverity, ObservationMapping, UnsupportedCode } from './types.js';

const STATUSES = new Set(['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown']);
// Results a clinician may act on; the rest are not measurements (yet, or any more).
const RESULT_STATUSES = new Set(['preliminary', 'final', 'amended', 'corrected']);
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** A FHIR instant: seconds and a zone required. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface MapObservationOptions {
  /** FHIRPath of the resource, e.g. `Bundle.entry[2].resource` (default `Observation`). */
  path?: string;
  /** When the server received it: the events' `producedAt`. */
  receivedAt?: Date;
  /** In a Bundle: a Patient entry's `urn:uuid` (lower case) → its id, so both references name one patient. */
  patientAliases?: ReadonlyMap<string, string>;
  /** In a Bundle: an Encounter entry's `urn:uuid` (lower case) → its id, so both references name one stay. */
  encounterAliases?: ReadonlyMap<string, string>;
}

function parseEffective(value: unknown, expression: string, issues: FhirIssue[]): number | null {
  if (typeof value !== 'string') {
    issues.push({ severity: 'error', code: 'value', expression, diagnostics: 'must be a dateTime string' });
    return null;
  }
  // Date.parse rolls a day that does not exist (2026-02-30) over into the next month: refuse it.
  if (!realDay(value)) {
    issues.push({ severity: 'error', code: 'value', expression, diagnostics: `no such day: ${JSON.stringify(value).slice(0, 80)}` });
    return null;
  }
  if (DATE_ONLY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    issues.push({ severity: 'warning', code: 'value', expression, diagnostics: `date without a time (${value}): taken as ${value}T00:00:00Z` });
    return Date.parse(`${value}T00:00:00Z`);
  }
  if (DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  issues.push({ severity: 'error', code: 'value', expression, diagnostics: `not a FHIR dateTime with a time zone, or a date: ${JSON.stringify(value).slice(0, 80)}` });
  return null;
}

/**
 * When this version of a result was made: `meta.lastUpdated`, else `issued` (both FHIR
 * instants), else when it was received. One that is not an instant is not guessed at: a
 * warning, and the next in line.
 */
function versionTime(resource: Record<string, unknown>, path: string, receivedAt: string, issues: FhirIssue[]): { at: string; stated: boolean } {
  const meta = isObject(resource.meta) ? resource.meta : {};
  for (const [value, expression] of [[meta.lastUpdated, `${path}.meta.lastUpdated`], [resource.issued, `${path}.issued`]] as const) {
    if (value === undefined) continue;
    if (typeof value === 'string' && INSTANT.test(value) && realDay(value) && !Number.isNaN(Date.parse(value))) return { at: iso(Date.parse(value)), stated: true };
    issues.push({ severity: 'warning', code: 'value', expression, diagnostics: `not a FHIR instant (${JSON.stringify(value).slice(0, 80)}): not used to order this result's versions` });
  }
  return { at: receivedAt, stated: false };
}

/**
 * `Patient/123`, `https://host/fhir/Patient/123`, `urn:uuid:…` (a Patient in the same
 * Bundle: its id when the Bundle gives it one, `aliases`), or an identifier with its system
 * → the id. An identifier's value is only unique within its system: `1001` of one hospital's
 * MRNs and `1001` of another's were one patient. It is keyed by both (a tag of the system,
 * then the value), and refused without a system.
 */
function referenceId(ref: unknown, type: string, aliases?: ReadonlyMap<string, string>): string | null {
  if (!isObject(ref)) return null;
  if (typeof ref.reference === 'string') return refId(ref, type, aliases);
  const identifier = ref.identifier;
  if (isObject(identifier) && typeof identifier.system === 'string' && identifier.system.length > 0 && identifier.system.length <= 1024 && typeof identifier.value === 'string' && IDENTIFIER_VALUE.test(identifier.value)) {
    return `${deterministicId('fhir-identifier-system', identifier.system).slice(0, 8)}:${identifier.value}`;
  }
  return null;
}

/** An identifier's value as a patient id takes (55 characters: the system's tag and a colon make 64). */
const IDENTIFIER_VALUE = /^[A-Za-z0-9._:-]{1,55}$/;

function codings(concept: unknown): { system: string | null; code: string | null; display: string | null }[] {
  if (!isObject(concept) || !Array.isArray(concept.coding)) return [];
  return concept.coding.filter(isObject).map((c) => ({
    system: typeof c.system === 'string' ? c.system : null,
    code: typeof c.code === 'string' ? c.code : null,
    display: typeof c.display === 'string' ? c.display : null,
  }));
}

const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** True when any category coding says laboratory. */
function isLaboratory(category: unknown): boolean {
  const list = Array.isArray(category) ? category : [];
  return list.some((c) => codings(c).some((x) => x.code === 'laboratory' && (x.system === null || x.system === OBSERVATION_CATEGORY)));
}

const loincOf = (concept: unknown) => codings(concept).find((c) => c.system === LOINC_SYSTEM && c.code) ?? null;

interface Measured {
  value: number;
  unit: string;
}

/** valueQuantity → value and unit (the UCUM code when given, else the display unit). */
function quantity(holder: Json, expression: string, issues: FhirIssue[], required: boolean): Measured | null {
  const q = holder.valueQuantity;
  if (q === undefined) {
    if (holder.dataAbsentReason !== undefined) return null;
    const other = Object.keys(holder).find((k) => k.startsWith('value'));
    if (other) issues.push({ severity: 'error', code: 'value', expression: `${expression}.${other}`, diagnostics: `${other} is not used: a measurement needs valueQuantity` });
    else if (required) issues.push({ severity: 'error', code: 'required', expression: `${expression}.value[x]`, diagnostics: 'a measurement needs valueQuantity, or dataAbsentReason' });
    return null;
  }
  if (!isObject(q)) {
    issues.push({ severity: 'error', code: 'structure', expression: `${expression}.valueQuantity`, diagnostics: 'must be a Quantity object' });
    return null;
  }
  if (typeof q.value !== 'number' || !Number.isFinite(q.value)) {
    issues.push({ severity: 'error', code: 'value', expression: `${expression}.valueQuantity.value`, diagnostics: `must be a number, got ${JSON.stringify(q.value) ?? 'nothing'}` });
    return null;
  }
  // `<0.5` or `>20` is a bound the instrument could not get past, not a measurement: taken as
  // the number it would read as exact (a lactate `>20` as 20) in the features and the score.
  if (q.comparator !== undefined) {
    issues.push({ severity: 'error', code: 'value', expression: `${expression}.valueQuantity.comparator`, diagnostics: `a value with comparator ${JSON.stringify(q.comparator).slice(0, 16)} is a bound, not a measurement: no event` });
    return null;
  }
  const unit = typeof q.code === 'string' && q.code ? q.code : typeof q.unit === 'string' && q.unit ? q.unit : null;
  if (!unit || unit.length > 32) {
    issues.push({ severity: 'error', code: 'required', expression: `${expression}.valueQuantity.code`, diagnostics: unit ? 'unit longer than 32 characters' : 'a measurement needs its unit (UCUM code or unit)' });
    return null;
  }
  return { value: q.value, unit };
}

/** Validates one Observation and maps it to raw events (none when it has an error). */
export function mapObservation(resource: unknown, options: MapObservationOptions = {}): ObservationMapping {
  const path = options.path ?? 'Observation';
  const issues: FhirIssue[] = [];
  const unsupported: UnsupportedCode[] = [];
  const fail = (): ObservationMapping => ({ valid: false, events: [], issues, unsupported });
  if (!isObject(resource)) {
    issues.push({ severity: 'error', code: 'structure', expression: path, diagnostics: 'must be a JSON object (a FHIR resource)' });
    return fail();
  }
  if (resource.resourceType !== 'Observation') {
    issues.push({ severity: 'error', code: 'invalid', expression: `${path}.resourceType`, diagnostics: `expected Observation, got ${JSON.stringify(resource.resourceType) ?? 'nothing'}` });
    return fail();
  }
  if (typeof resource.status !== 'string' || !STATUSES.has(resource.status)) {
    issues.push({ severity: 'error', code: resource.status === undefined ? 'required' : 'code-invalid', expression: `${path}.status`, diagnostics: resource.status === undefined ? 'status is required' : `unknown status ${JSON.stringify(resource.status)}` });
  }
  if (!isObject(resource.code) || codings(resource.code).length === 0) {
    issues.push({ severity: 'error', code: 'required', expression: `${path}.code`, diagnostics: 'code with at least one coding is required' });
  }
  const patientId = referenceId(resource.subject, 'Patient', options.patientAliases);
  if (!patientId) {
    issues.push({ severity: 'error', code: resource.subject === undefined ? 'required' : 'value', expression: `${path}.subject`, diagnostics: 'subject must reference a Patient (Patient/<id>, urn:uuid:<uuid>, or an identifier with its system and a value of at most 55 characters)' });
  }
  const encounterId = resource.encounter === undefined ? null : referenceId(resource.encounter, 'Encounter', options.encounterAliases);
  if (resource.encounter !== undefined && !encounterId) {
    issues.push({ severity: 'error', code: 'value', expression: `${path}.encounter`, diagnostics: 'encounter must reference an Encounter (Encounter/<id>)' });
  }
  let effective: number | null = null;
  if (resource.effectiveDateTime !== undefined) effective = parseEffective(resource.effectiveDateTime, `${path}.effectiveDateTime`, issues);
  else if (resource.effectiveInstant !== undefined) effective = parseEffective(resource.effectiveInstant, `${path}.effectiveInstant`, issues);
  else if (isObject(resource.effectivePeriod) && (resource.effectivePeriod.start ?? resource.effectivePeriod.end) !== undefined) {
    const which = resource.effectivePeriod.start !== undefined ? 'start' : 'end';
    effective = parseEffective(resource.effectivePeriod[which], `${path}.effectivePeriod.${which}`, issues);
  } else {
    issues.push({ severity: 'error', code: 'required', expression: `${path}.effective[x]`, diagnostics: 'when it was measured is required (effectiveDateTime, effectiveInstant or effectivePeriod)' });
  }

  // What it measures: a blood-pressure panel (components), or one LOINC code we use.
  const loinc = loincOf(resource.code);
  const measured: { signal: SignalRef; value: Measured; part: string }[] = [];
  if (loinc && BP_PANEL_LOINC.has(loinc.code!)) {
    const components = Array.isArray(resource.component) ? resource.component : [];
    if (components.length === 0) issues.push({ severity: 'error', code: 'required', expression: `${path}.component`, diagnostics: 'a blood-pressure panel carries systolic and diastolic as components' });
    components.forEach((c: unknown, i: number) => {
      const expression = `${path}.component[${i}]`;
      if (!isObject(c)) {
        issues.push({ severity: 'error', code: 'structure', expression, diagnostics: 'must be an object' });
        return;
      }
      const code = loincOf(c.code);
      const signal = code ? LOINC_SIGNALS.get(code.code!) : undefined;
      if (!code || !signal) {
        unsupported.push({ expression: `${expression}.code`, ...(code ?? codings(c.code)[0] ?? { system: null, code: null, display: null }) });
        return;
      }
      const value = quantity(c, expression, issues, true);
      if (value) measured.push({ signal, value, part: code.code! });
      else if (c.dataAbsentReason !== undefined) issues.push({ severity: 'information', code: 'informational', expression: `${expression}.dataAbsentReason`, diagnostics: `${signal.kind} absent: no event` });
    });
  } else if (loinc && LOINC_SIGNALS.has(loinc.code!)) {
    // 2708-6 is SpO2 in most feeds, but a laboratory Observation with it is a blood gas's SaO2.
    const signal: SignalRef = loinc.code === '2708-6' && isLaboratory(resource.category) ? { type: 'lab', kind: 'sao2' } : LOINC_SIGNALS.get(loinc.code!)!;
    const value = quantity(resource, path, issues, true);
    if (value) measured.push({ signal, value, part: loinc.code! });
    else if (resource.dataAbsentReason !== undefined) issues.push({ severity: 'information', code: 'informational', expression: `${path}.dataAbsentReason`, diagnostics: `${signal.kind} absent: no event` });
  } else if (isObject(resource.code)) {
    const shown = loinc ?? codings(resource.code)[0] ?? { system: null, code: null, display: null };
    unsupported.push({ expression: `${path}.code`, ...shown });
  }
  for (const u of unsupported) {
    issues.push({
      severity: 'warning',
      code: 'not-supported',
      expression: u.expression,
      diagnostics: `${u.system === LOINC_SYSTEM ? 'LOINC' : (u.system ?? 'uncoded')} ${u.code ?? ''}${u.display ? ` (${u.display})` : ''} is not used by the pipeline: no event`.replace(/\s+/g, ' '),
    });
  }

  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) return fail();
  const withdrawn = resource.status === 'entered-in-error';
  if (!RESULT_STATUSES.has(resource.status as string) && !withdrawn) {
    issues.push({ severity: 'warning', code: 'informational', expression: `${path}.status`, diagnostics: `status ${String(resource.status)} is not a result: no event` });
    return { valid: true, events: [], issues, unsupported };
  }
  if (withdrawn) {
    // The withdrawal names the reading's event by the id it was given: the resource's id and
    // the value. Without either there is no telling which reading it was.
    const why = typeof resource.id !== 'string' ? 'without an id' : measured.length === 0 ? 'without its value' : null;
    if (why) {
      issues.push({ severity: 'warning', code: 'informational', expression: `${path}.status`, diagnostics: `status entered-in-error ${why}: the reading it withdraws cannot be named, no event (send it with the id and value it was entered with)` });
      return { valid: true, events: [], issues, unsupported };
    }
    issues.push({ severity: 'information', code: 'informational', expression: `${path}.status`, diagnostics: 'status entered-in-error: withdraws the reading of this id and value (it leaves the patient\'s picture, or never enters it)' });
  }

  const receivedAt = iso(Math.floor((options.receivedAt ?? new Date()).getTime() / 1000) * 1000);
  const identity = typeof resource.id === 'string' ? `id:${resource.id}` : `json:${deterministicId('fhir-json', JSON.stringify(resource))}`;
  // A result's id stays the same through its versions (preliminary → final → amended): the
  // value is part of the event's id, so that a correction is an event of its own and not a
  // duplicate of the value it corrects (which the feature service dropped, with a 202 to the
  // sender), while a retry, or a final that confirms the preliminary value, is still one event
  // (the status is not: an unchanged value counted twice would inflate the counts).
  const status = resource.status as string;
  // Every version of a result (by its id) names the result and when the version was made: the
  // feature service keeps the latest version's value and takes an earlier one's out of the
  // patient's picture, in whatever order they come. Without an id, no version can be matched.
  // A withdrawal (entered-in-error) is a version too: the latest, with no reading, so that no
  // earlier version comes back whatever order they arrive in.
  const version = typeof resource.id === 'string' ? versionTime(resource, path, receivedAt, issues) : null;
  if (version !== null && (status === 'amended' || status === 'corrected')) {
    issues.push({ severity: 'information', code: 'informational', expression: `${path}.status`, diagnostics: `status ${status}: replaces the value of an earlier version of this id (dated ${version.at}) in the patient's picture; an unchanged value is the same event` });
  }
  const events: RawEvent[] = measured.map((m) => {
    // The time is part of the reading: a version re-dated (the same value, charted at the wrong
    // time first) is a new reading, not a duplicate the feature service would drop after a 202.
    const reading = deterministicId('fhir', patientId!, identity, m.part, String(m.value.value), m.value.unit, iso(effective!));
    // So is the version's own time when the resource states it: a correction back to an earlier
    // version's value (6.5 → 4.1 → 6.5) is a new version, not a duplicate of the first. A retry
    // of one version states the same time, so it stays one event. (Without a stated time the
    // receipt orders the versions but cannot be in the id: a retry would be a new event.)
    const id = version?.stated ? deterministicId('fhir', reading, 'version', version.at) : reading;
    const withdrawal = withdrawn ? { retracts: reading } : {};
    const result = version !== null ? { result: { id: deterministicId('fhir-result', patientId!, identity, m.part), at: version.at } } : {};
    const envelope = {
      schemaVersion: 1 as const,
      eventId: withdrawn ? deterministicId('fhir-withdrawal', id) : id,
      patientId: patientId!,
      encounterId,
      occurredAt: iso(effective!),
      producedAt: receivedAt,
      source: 'fhir' as const,
    };
    return m.signal.type === 'vital'
      ? { schema: 'vital_sign', ...envelope, payload: { kind: m.signal.kind, value: m.value.value, unit: m.value.unit, ...withdrawal, ...result } }
      : { schema: 'lab_result', ...envelope, payload: { kind: m.signal.kind, value: m.value.value, unit: m.value.unit, loinc: m.part, ...withdrawal, ...result } };
  });
  return { valid: true, events, issues, unsupported };
}

export function operationOutcome(issues: readonly FhirIssue[]): OperationOutcome {
  const list = issues.length > 0 ? issues : [{ severity: 'information' as const, code: 'informational' as const, diagnostics: 'ok', expression: '' }];
  return {
    resourceType: 'OperationOutcome',
    issue: list.map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics, ...(i.expression ? { expression: [i.expression] } : {}) })),
  };
}

export interface BundleEntryResult {
  index: number;
  resourceType: string | null;
  mapping: ObservationMapping;
}

export interface BundleMapping {
  type: 'transaction' | 'batch' | 'collection' | null;
  /** Errors of the bundle itself (not of an entry). */
  issues: FhirIssue[];
  entries: BundleEntryResult[];
}

const BUNDLE_TYPES = new Set(['transaction', 'batch', 'collection']);

/** Maps every entry of a transaction, batch or collection Bundle; other resources are reported as not supported. */
export function mapBundle(resource: unknown, options: { receivedAt?: Date; maxEntries?: number } = {}): BundleMapping {
  const issues: FhirIssue[] = [];
  if (!isObject(resource) || resource.resourceType !== 'Bundle') {
    issues.push({ severity: 'error', code: 'invalid', expression: 'Bundle.resourceType', diagnostics: `expected a Bundle, got ${isObject(resource) ? JSON.stringify(resource.resourceType) : 'no resource'}` });
    return { type: null, issues, entries: [] };
  }
  if (typeof resource.type !== 'string' || !BUNDLE_TYPES.has(resource.type)) {
    issues.push({ severity: 'error', code: 'not-supported', expression: 'Bundle.type', diagnostics: `Bundle.type must be transaction, batch or collection, got ${JSON.stringify(resource.type) ?? 'nothing'}` });
    return { type: null, issues, entries: [] };
  }
  const type = resource.type as BundleMapping['type'];
  const raw = resource.entry === undefined ? [] : resource.entry;
  if (!Array.isArray(raw)) {
    issues.push({ severity: 'error', code: 'structure', expression: 'Bundle.entry', diagnostics: 'must be an array' });
    return { type, issues, entries: [] };
  }
  if (options.maxEntries !== undefined && raw.length > options.maxEntries) {
    issues.push({ severity: 'error', code: 'too-costly', expression: 'Bundle.entry', diagnostics: `at most ${options.maxEntries} entries per Bundle (got ${raw.length})` });
    return { type, issues, entries: [] };
  }
  const demographicEntries = (raw as unknown[]).flatMap((entry, index): BundleResource[] => {
    const r: unknown = isObject(entry) ? entry.resource : undefined;
    if (!isObject(r) || (r.resourceType !== 'Patient' && r.resourceType !== 'Encounter')) return [];
    return [{ index, fullUrl: isObject(entry) && typeof entry.fullUrl === 'string' ? entry.fullUrl : null, resource: r }];
  });
  // A Patient or Encounter the Bundle names both by `urn:uuid:X` (its fullUrl) and by its id is
  // one resource: references by the uuid take the id. Before, its data landed under two ids.
  const patientAliases = bundleAliases(demographicEntries, 'Patient');
  const encounterAliases = bundleAliases(demographicEntries, 'Encounter');
  const demographics = mapDemographicEntries(demographicEntries, options.receivedAt, patientAliases, encounterAliases);
  const entries = (raw as unknown[]).map((entry, index): BundleEntryResult => {
    const path = `Bundle.entry[${index}]`;
    const e = entry as BundleEntry | undefined;
    const r: unknown = isObject(e) ? e.resource : undefined;
    const resourceType = isObject(r) && typeof r.resourceType === 'string' ? r.resourceType : null;
    const request = isObject(e) ? e.request : undefined;
    if ((type === 'transaction' || type === 'batch') && request !== undefined) {
      const method = isObject(request) ? request.method : undefined;
      if (method !== 'POST' && method !== 'PUT') {
        // Whatever the resource: a DELETE of an Encounter was taken as its admission.
        const issue: FhirIssue = { severity: 'error', code: 'not-supported', expression: `${path}.request.method`, diagnostics: `only POST (or PUT) of an Observation, Patient or Encounter is accepted, got ${JSON.stringify(method)}` };
        return { index, resourceType, mapping: { valid: false, events: [], issues: [issue], unsupported: [] } };
      }
    }
    const demographic = demographics.get(index);
    if (demographic) return { index, resourceType, mapping: demographic };
    if (resourceType !== null && resourceType !== 'Observation') {
      const issue: FhirIssue = { severity: 'warning', code: 'not-supported', expression: `${path}.resource`, diagnostics: `${resourceType} is not ingested (only Observation, Patient and Encounter): ignored` };
      return { index, resourceType, mapping: { valid: true, events: [], issues: [issue], unsupported: [] } };
    }
    const mapping = mapObservation(r, { path: `${path}.resource`, patientAliases, encounterAliases, ...(options.receivedAt ? { receivedAt: options.receivedAt } : {}) });
    return { index, resourceType, mapping };
  });
  return { type, issues, entries };
}
