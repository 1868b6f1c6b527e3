// The per-patient state and its reducer. The state after a set of events does not depend
// on the order they arrived in, as long as none was later than the lateness tolerance:
// series are kept sorted, "latest" facts are chosen by (event time, id hash), and what
// is pruned depends only on the latest event time.
import { CORE_LAB_KINDS, EXTENDED_LAB_KINDS, VITAL_KINDS } from '../clinical/signals.js';
import type { Signal } from '../cleaning/units.js';
import { analyseNote } from '../text/lexicon.js';
import type { RawEvent } from '../schemas/events.js';
import { admissionTypeCode, departmentCode, genderCode, unitCode } from '../featurize/categories.js';
import { idHash } from './hash.js';
import { Series } from './series.js';

// New signals are appended (EtCO2, then the extended labs), so a series keeps its index in
// states written by the changelog before they existed.
export const SIGNALS: readonly Signal[] = [...VITAL_KINDS.filter((v) => v !== 'etco2'), ...CORE_LAB_KINDS, 'etco2', ...EXTENDED_LAB_KINDS];
export const SIGNAL_INDEX: Readonly<Record<Signal, number>> = Object.fromEntries(SIGNALS.map((s, i) => [s, i])) as Record<Signal, number>;

export const HOUR_MS = 3_600_000;
/** The longest feature window. */
export const MAX_WINDOW_MS = 24 * HOUR_MS;

export interface StateOptions {
  /** An event older than the patient's latest event by more than this is late (dead-lettered). */
  latenessMs: number;
  /**
   * Points kept per signal (and notes) before the older ones are downsampled to one-minute
   * buckets (default DEFAULT_MAX_POINTS_PER_SIGNAL): a 1 Hz monitor feed stays bounded.
   */
  maxPointsPerSignal?: number;
  /**
   * Event ids remembered per patient for deduplication (default DEFAULT_MAX_DEDUP_IDS). Past
   * it the oldest are forgotten, and an event older than the oldest remembered is late.
   */
  maxDedupIds?: number;
}

export const DEFAULT_MAX_POINTS_PER_SIGNAL = 8192;
export const DEFAULT_MAX_DEDUP_IDS = 20_000;
const MINUTE_MS = 60_000;
/** The latest points of a signal are never downsampled: "last value" and "hours since" stay exact. */
const RECENT_MS = 10 * MINUTE_MS;

export const DEFAULT_STATE_OPTIONS: StateOptions = { latenessMs: HOUR_MS };

/** How long observations and event ids are kept: the longest window plus the lateness tolerance. */
export const retentionMs = (o: StateOptions) => MAX_WINDOW_MS + o.latenessMs;

export interface NoteRecord {
  time: number;
  hash: number;
  length: number;
  words: number;
  avgWordLength: number;
  affirmed: number;
  negated: number;
  /** Notes this record stands for once older notes were merged per minute (absent: 1). */
  count?: number;
}

/** A fact that is replaced only by one that is later in (time, id hash). */
interface Stamped {
  time: number;
  hash: number;
}

export interface AdmissionFacts extends Stamped {
  admissionType: number;
  department: number;
  departmentName: string | null;
  gender: number;
  age: number;
  /** Epoch ms of the hospital admission, when this admission came later in the stay; NaN unknown. */
  hospitalAdmitTime: number;
}

export interface LocationFacts extends Stamped {
  unit: number;
  unitName: string;
  icu: boolean;
}

export interface PatientState {
  patientId: string;
  encounter: (Stamped & { id: string }) | null;
  /** Latest event time applied (epoch ms); -Infinity before the first. */
  maxTime: number;
  /**
   * By SIGNALS index, as long as the highest signal seen (shorter arrays read as null): a
   * patient on a ward holds a few vitals, and a full-length array per patient was 280 bytes
   * of nulls, 13 MiB at 50,000 patients.
   */
  series: (Series | null)[];
  /** (time, id hash) of every accepted event still within retention: deduplication. */
  ledger: Series;
  notes: NoteRecord[];
  admission: AdmissionFacts | null;
  location: LocationFacts | null;
  spo2Scale: (Stamped & { scale: 1 | 2 }) | null;
  /** Events at or before this time can no longer be checked for duplicates (the id cap was reached); -Infinity until then. */
  dedupFloor: number;
  /** Event time of the discharge that closed the stay; NaN while in hospital. */
  dischargedAt: number;
  /** asOf of the last emitted vector (debounce), NaN before the first. */
  lastEmittedAt: number;
  /** Vital-sign and lab values accepted since the stay began (never pruned: how much was measured is a signal). */
  stayCounts: { vitals: number; labs: number };
  /** Event time of the stay's earliest event; Infinity before the first. */
  firstTime: number;
  /**
   * The stay's first value of each signal (by SIGNALS index; the earliest by (time, value),
   * so arrival order does not matter; time NaN = none yet). Never pruned: the baseline that
   * changes during the stay are measured against.
   */
  first: StayBaseline;
  /** Standing versions of results, by the id hash of `payload.result.id` (a Map: the key comes from a message); null until the first (most patients have none: no Map each). */
  versions: Map<number, ResultRecord> | null;
}

/**
 * The standing version of a result (a reading whose payload names its `result`): the latest by
 * (version time, event id hash), kept while its reading is within retention, so that the next
 * version can take its reading out of the picture.
 */
export interface ResultRecord {
  /** When this version was made (epoch ms) and its event's id hash. */
  at: number;
  hash: number;
  /** Its reading: SIGNALS index, event time and value (as cleaned: what the series holds). */
  signal: number;
  time: number;
  value: number;
  vital: boolean;
  /** A withdrawal (entered in error): the result stands with no reading, and no earlier version can come back. */
  withdrawn: boolean;
}

/**
 * By SIGNALS index, plain arrays as long as the highest signal seen (NaN, or past the end:
 * none): two full-length typed arrays were 830 bytes per patient, 40 MiB at 50,000.
 */
export interface StayBaseline {
  times: number[];
  values: number[];
}

export function emptyBaseline(): StayBaseline {
  return { times: [], values: [] };
}

/** `a` long enough to hold index `i`, at its exact size (a push would reserve room for 16 more). */
function reach<T>(a: T[], i: number, fill: T): T[] {
  if (a.length > i) return a;
  const out = new Array<T>(i + 1);
  for (let k = 0; k <= i; k++) out[k] = k < a.length ? a[k]! : fill;
  return out;
}

/** Records `value` at `time` as the stay's first of signal `i` when it is earlier, by (time, value). */
export function offerFirst(first: StayBaseline, i: number, time: number, value: number): void {
  if (first.times.length <= i) {
    first.times = reach(first.times, i, NaN);
    first.values = reach(first.values, i, NaN);
  }
  const ft = first.times[i]!;
  if (Number.isNaN(ft) || time < ft || (time === ft && value < first.values[i]!)) {
    first.times[i] = time;
    first.values[i] = value;
  }
}

/** The series of signal `i`, created (and the array grown) if the patient has none yet. */
export function seriesFor(state: PatientState, i: number): Series {
  if (state.series.length <= i) state.series = reach(state.series, i, null);
  return (state.series[i] ??= new Series());
}

/** The stay's first value of signal `i`, or NaN. */
export function firstValue(state: PatientState, i: number): number {
  return state.first.values[i] ?? NaN;
}

export function createPatientState(patientId: string): PatientState {
  return {
    patientId,
    encounter: null,
    maxTime: -Infinity,
    series: [],
    ledger: new Series(),
    notes: [],
    admission: null,
    location: null,
    spo2Scale: null,
    dedupFloor: -Infinity,
    dischargedAt: NaN,
    lastEmittedAt: NaN,
    stayCounts: { vitals: 0, labs: 0 },
    firstTime: Infinity,
    first: emptyBaseline(),
    versions: null,
  };
}

export function clonePatientState(s: PatientState): PatientState {
  return {
    ...s,
    series: s.series.map((x) => x?.clone() ?? null),
    ledger: s.ledger.clone(),
    notes: s.notes.slice(),
    stayCounts: { ...s.stayCounts },
    first: { times: s.first.times.slice(), values: s.first.values.slice() },
    // Records are replaced, never changed: a shallow copy of the map is enough.
    versions: s.versions && new Map(s.versions),
  };
}

const later = (a: Stamped, b: Stamped | null) => b === null || a.time > b.time || (a.time === b.time && a.hash > b.hash);

export type Verdict =
  | { kind: 'accept'; time: number; hash: number; newStay: boolean }
  | { kind: 'duplicate' }
  | { kind: 'late'; error: string };

/** Is this event new, a duplicate, or too late? Duplicates are checked first. */
export function judge(state: PatientState | undefined, event: RawEvent, options: StateOptions): Verdict {
  const time = Date.parse(event.occurredAt);
  const hash = idHash(event.eventId);
  if (!state) return { kind: 'accept', time, hash, newStay: false };
  if (state.ledger.hasValue(hash)) return { kind: 'duplicate' };
  if (!Number.isNaN(state.dischargedAt)) {
    if (time > state.dischargedAt) return { kind: 'accept', time, hash, newStay: true };
    return { kind: 'late', error: `event at ${event.occurredAt} arrived after the stay was closed by a discharge at ${iso(state.dischargedAt)}` };
  }
  if (time <= state.dedupFloor) {
    return {
      kind: 'late',
      error: `event at ${event.occurredAt} is at or before ${iso(state.dedupFloor)}: the discharge that closed this patient's previous stay, or the oldest event id deduplication still holds (at most ${options.maxDedupIds ?? DEFAULT_MAX_DEDUP_IDS} ids); it cannot be told from a duplicate`,
    };
  }
  if (time < state.maxTime - options.latenessMs) {
    const hours = (state.maxTime - time) / HOUR_MS;
    return { kind: 'late', error: `event at ${event.occurredAt} is ${hours.toFixed(2)} h older than the patient's latest event (${iso(state.maxTime)}); tolerance ${options.latenessMs / HOUR_MS} h` };
  }
  return { kind: 'accept', time, hash, newStay: false };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Applies an accepted (cleaned, judged) event in place. Callers that need the old state
 * (a batch that may fail) clone first; `reduce` is the pure form.
 */
export function applyEvent(state: PatientState, event: RawEvent, time: number, hash: number, options: StateOptions): void {
  state.ledger.insert(time, hash);
  // A withdrawal is not a reading: it does not start a stay.
  const withdrawal = (event.schema === 'vital_sign' || event.schema === 'lab_result') && event.payload.retracts !== undefined;
  if (time < state.firstTime && !withdrawal) state.firstTime = time;
  if (event.encounterId !== null && later({ time, hash }, state.encounter)) state.encounter = { time, hash, id: event.encounterId };
  switch (event.schema) {
    case 'vital_sign':
    case 'lab_result': {
      const i = SIGNAL_INDEX[event.payload.kind];
      const version = event.payload.result;
      const withdrawn = event.payload.retracts !== undefined;
      if (version !== undefined) {
        // A version of a result; a withdrawal of one (entered-in-error) is its latest version, with no reading.
        const record: ResultRecord = { at: finiteOr(Date.parse(version.at), time), hash, signal: i, time, value: event.payload.value, vital: event.schema === 'vital_sign', withdrawn };
        if (!standsOver(state, idHash(version.id), record) || withdrawn) break;
      } else if (withdrawn) {
        retract(state, i, time, event.payload.value, idHash(event.payload.retracts!), event.schema);
        break;
      }
      seriesFor(state, i).insert(time, event.payload.value);
      offerFirst(state.first, i, time, event.payload.value);
      if (event.schema === 'vital_sign') state.stayCounts.vitals++;
      else state.stayCounts.labs++;
      break;
    }
    case 'clinical_note': {
      const a = analyseNote(event.payload.text);
      const note: NoteRecord = { time, hash, length: a.length, words: a.words, avgWordLength: a.avgWordLength, affirmed: a.affirmed, negated: a.negated };
      let at = state.notes.length;
      while (at > 0 && later(state.notes[at - 1]!, note)) at--;
      state.notes.splice(at, 0, note);
      break;
    }
    case 'admission': {
      const p = event.payload;
      if (later({ time, hash }, state.admission)) {
        state.admission = {
          time,
          hash,
          admissionType: admissionTypeCode(p.admissionType),
          department: departmentCode(p.department),
          departmentName: p.department ?? null,
          gender: genderCode(p.gender),
          age: p.age ?? NaN,
          hospitalAdmitTime: p.hospitalAdmitTime === undefined ? NaN : Date.parse(p.hospitalAdmitTime),
        };
      }
      setLocation(state, { time, hash, unit: unitCode(p.unit), unitName: p.unit, icu: unitCode(p.unit) === 4 });
      if (p.spo2Scale !== undefined && later({ time, hash }, state.spo2Scale)) state.spo2Scale = { time, hash, scale: p.spo2Scale };
      break;
    }
    case 'transfer': {
      const p = event.payload;
      setLocation(state, { time, hash, unit: unitCode(p.toUnit), unitName: p.toUnit, icu: p.icu });
      if (p.spo2Scale !== undefined && later({ time, hash }, state.spo2Scale)) state.spo2Scale = { time, hash, scale: p.spo2Scale };
      break;
    }
    case 'discharge':
      break;
  }
  if (time > state.maxTime) {
    state.maxTime = time;
    prune(state, options);
  } else {
    // A late event's own series may now hold an extra stale point: prune keeps the form canonical.
    prune(state, options);
  }
}

/**
 * Withdraws a reading entered in error (its event's id hash `target`, at `time` with `value`,
 * as cleaned: in the canonical unit, so it matches what was kept). Applied: the point leaves
 * its series, and the stay's counts and baseline with it. Not seen yet: its id joins the
 * ledger, so when it comes it is a duplicate and never enters the picture. Either order ends
 * with the same state. A point already merged into a downsampled minute (a dense feed, hours
 * back) stands for others too and stays.
 */
function retract(state: PatientState, i: number, time: number, value: number, target: number, schema: 'vital_sign' | 'lab_result'): void {
  if (!state.ledger.hasValue(target)) {
    state.ledger.insert(time, target);
    return;
  }
  removeReading(state, i, time, value, schema === 'vital_sign');
}

/**
 * A version of a result (FHIR: preliminary → final → amended) arrives. The first of its result
 * stands; a later one (by version time, then id hash) takes the standing one's reading out of
 * the picture and stands instead; an earlier one was superseded before it came and never enters.
 * Either order ends with the same state. Returns whether the reading enters the picture.
 */
function standsOver(state: PatientState, key: number, version: ResultRecord): boolean {
  const versions = (state.versions ??= new Map<number, ResultRecord>());
  const standing = versions.get(key);
  if (standing !== undefined) {
    if (!laterVersion(version, standing)) return false;
    // A withdrawn one has no reading left to take out (taking one of equal value would take another result's).
    if (!standing.withdrawn) removeReading(state, standing.signal, standing.time, standing.value, standing.vital);
    // Deleted first, so the map stays in arrival order: pruning walks it from the oldest and stops early.
    versions.delete(key);
  }
  versions.set(key, version);
  return true;
}

/** Later by version time; at one time a withdrawal is later than a reading (entered-in-error comes after the result), then by id hash. */
const laterVersion = (a: ResultRecord, b: ResultRecord) =>
  a.at > b.at || (a.at === b.at && (a.withdrawn !== b.withdrawn ? a.withdrawn : a.hash > b.hash));

/** The version's time, or the reading's when it cannot be read (the schema checks the format; a changelog needs a number). */
const finiteOr = (ms: number, fallback: number) => (Number.isFinite(ms) ? ms : fallback);

/** Takes one reading out of its series, the stay's counts and the baseline (when it is still there). */
function removeReading(state: PatientState, i: number, time: number, value: number, vital: boolean): void {
  const series = state.series[i];
  if (!series?.remove(time, value)) return;
  if (vital) state.stayCounts.vitals = Math.max(0, state.stayCounts.vitals - 1);
  else state.stayCounts.labs = Math.max(0, state.stayCounts.labs - 1);
  // The baseline was this reading: the earliest still held stands in (older ones may be pruned).
  if (state.first.times[i] === time && state.first.values[i] === value) {
    state.first.times[i] = NaN;
    state.first.values[i] = NaN;
    if (series.length > 0) offerFirst(state.first, i, series.times[0]!, series.values[0]!);
  }
}

function setLocation(state: PatientState, location: LocationFacts): void {
  if (later(location, state.location)) state.location = location;
}

/**
 * Keeps what windows, dedup and "last value" need: everything within retention, plus the
 * latest of each signal; and no more than the caps (older points downsampled, oldest ids forgotten).
 */
function prune(state: PatientState, options: StateOptions): void {
  const cutoff = state.maxTime - retentionMs(options);
  const maxPoints = Math.max(16, options.maxPointsPerSignal ?? DEFAULT_MAX_POINTS_PER_SIGNAL);
  for (const s of state.series) {
    if (!s) continue;
    s.pruneBefore(cutoff, 1);
    if (s.length > maxPoints) boundSeries(s, state.maxTime, maxPoints);
  }
  const { ledger } = state;
  ledger.pruneBefore(cutoff);
  const maxIds = Math.max(1, options.maxDedupIds ?? DEFAULT_MAX_DEDUP_IDS);
  if (ledger.length > maxIds) {
    const drop = ledger.length - maxIds;
    state.dedupFloor = Math.max(state.dedupFloor, ledger.times[drop - 1]!);
    ledger.dropFirst(drop);
  }
  // A version older than retention could only be followed by a late event (dead-lettered).
  const { versions } = state;
  if (versions) {
    // In arrival order, which is event order but for late events (within the lateness
    // tolerance): walked from the oldest, stopping at the first still within retention, so a
    // feed of versioned readings costs O(1) per event, not a walk of all of them. A late one
    // behind a newer record is let go a little later, which costs nothing but its bytes.
    for (const [key, r] of versions) {
      if (r.time >= cutoff && versions.size <= maxIds) break;
      versions.delete(key);
    }
    if (versions.size === 0) state.versions = null;
  }
  let drop = 0;
  while (drop < state.notes.length - 1 && state.notes[drop]!.time < cutoff) drop++;
  if (drop > 0) state.notes.splice(0, drop);
  if (state.notes.length > maxPoints) boundNotes(state, maxPoints);
}

/** Downsamples all but the latest points to one-minute buckets; coarser only if that is not enough. */
function boundSeries(s: Series, maxTime: number, maxPoints: number): void {
  const recent = Math.max(maxTime - RECENT_MS, s.times[s.length - Math.floor(maxPoints / 4)]!);
  let bucket = MINUTE_MS;
  s.downsampleBefore(recent, bucket);
  while (s.length > (maxPoints * 3) / 4 && bucket < MAX_WINDOW_MS) {
    bucket *= 2;
    s.downsampleBefore(recent, bucket);
  }
  // The latest points are kept as they are, but only as far as their times differ: a feed of
  // 20,000 readings at one instant (distinct ids) held them all, 1.4 MB in one patient, past
  // the cap. Points of one millisecond are cut to their extremes, whose last is still the last.
  if (s.length > maxPoints) s.downsampleBefore(Infinity, 1);
}

/** Merges older notes per minute: the latest of each minute stands for it, with the count and every term seen. */
function boundNotes(state: PatientState, maxPoints: number): void {
  const { notes } = state;
  const recent = Math.max(state.maxTime - RECENT_MS, notes[notes.length - Math.floor(maxPoints / 4)]!.time);
  let bucket = MINUTE_MS;
  do {
    const merged: NoteRecord[] = [];
    for (const note of notes) {
      const last = merged[merged.length - 1];
      if (last && note.time < recent && last.time < recent && Math.floor(last.time / bucket) === Math.floor(note.time / bucket)) {
        // Notes are sorted by (time, hash): the later one stands for both.
        merged[merged.length - 1] = { ...note, affirmed: note.affirmed | last.affirmed, negated: note.negated | last.negated, count: (note.count ?? 1) + (last.count ?? 1) };
      } else merged.push(note);
    }
    state.notes = merged;
    bucket *= 2;
  } while (state.notes.length > (maxPoints * 3) / 4 && bucket < MAX_WINDOW_MS);
  // As for series: notes of one instant are merged whatever their age, once over the cap.
  if (state.notes.length > maxPoints) state.notes = mergeSameInstant(state.notes);
}

/** Notes sorted by (time, hash), those of one millisecond merged into the last of them. */
function mergeSameInstant(notes: readonly NoteRecord[]): NoteRecord[] {
  const merged: NoteRecord[] = [];
  for (const note of notes) {
    const last = merged[merged.length - 1];
    if (last && last.time === note.time) merged[merged.length - 1] = { ...note, affirmed: note.affirmed | last.affirmed, negated: note.negated | last.negated, count: (note.count ?? 1) + (last.count ?? 1) };
    else merged.push(note);
  }
  return merged;
}

/**
 * Closes the stay: the picture is dropped; the event ids stay (as bounded during the stay, by
 * retention and maxDedupIds), so a copy of any event of the stay is known as a duplicate and an
 * unknown in-stay event is late. Keeping only the last lateness window of ids (as before) made
 * a client's retry after a 503, whose first copy had landed with the discharge, into hundreds
 * of false late_event dead letters in the embedded replay (apps/pipeline README).
 */
export function closeStay(state: PatientState, dischargedAt: number): void {
  state.dischargedAt = dischargedAt;
  state.series = [];
  state.notes = [];
  state.admission = null;
  state.location = null;
  state.spo2Scale = null;
  state.stayCounts = { vitals: 0, labs: 0 };
  state.first = emptyBaseline();
  state.versions = null;
}

/**
 * A fresh stay for a patient seen before (after a discharge): the picture starts afresh, but
 * the event ids stay, so a client's retried copy of the closed stay's event is still a
 * duplicate; and nothing at or before the discharge joins the new stay (the deduplication
 * floor moves up to it): it belongs to the stay that was closed. Starting from nothing
 * counted such a copy as a new reading and moved the new stay's start, and its baseline, back
 * into the old one.
 */
export function reopen(state: PatientState): PatientState {
  const fresh = createPatientState(state.patientId);
  fresh.ledger = state.ledger;
  fresh.dedupFloor = Number.isNaN(state.dischargedAt) ? state.dedupFloor : Math.max(state.dedupFloor, state.dischargedAt);
  return fresh;
}

/** Approximate bytes held by one patient's state (typed arrays, notes, fixed overhead). */
export function stateBytes(state: PatientState): number {
  let bytes = 400 + 16 * state.first.times.length + state.ledger.bytes + state.notes.length * 120 + (state.versions?.size ?? 0) * 120;
  for (const s of state.series) if (s) bytes += s.bytes + 64;
  return bytes;
}
