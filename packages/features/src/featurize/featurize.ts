// featurize(state, asOf) → the feature vector (Float64Array in catalog order, NaN =
// missing). Pure: it reads the state and never changes it, so the service and the batch
// API, given the same state, produce bit-identical vectors.
import { AVPU_LEVELS, type Consciousness } from '../clinical/signals.js';
import { news2 } from '../clinical/news2.js';
import { qsofa } from '../clinical/qsofa.js';
import type { RawEventSchemaName } from '../schemas/events.js';
import type { FeatureValues } from '../schemas/feature-vector.js';
import type { Signal } from '../cleaning/units.js';
import { HOUR_MS, SIGNAL_INDEX, type PatientState } from '../state/patient-state.js';
import type { Series } from '../state/series.js';
import { RISK_CATEGORIES } from '../text/lexicon.js';
import { EVENT_TYPE_CODES } from './categories.js';
import { writeSepsisFeatures } from './sepsis.js';
import { FEATURE_COUNT, FEATURE_NAMES, featureIndex, SPARSE_SIGNALS, VITAL_WINDOWS, WINDOWED_LABS, WINDOWED_VITALS } from './catalog.js';

const ix = featureIndex;
const DAY_MS = 24 * HOUR_MS;

interface SeriesSlots {
  signal: number;
  last: number;
  hours: number;
  count: number;
  windows: { ms: number; min: number; max: number; delta: number; slope: number }[];
}

const optional = (name: string) => (FEATURE_NAMES.includes(name) ? ix(name) : -1);
const slotsFor = (signal: Signal, windows: readonly { label: string; hours: number }[]): SeriesSlots => ({
  signal: SIGNAL_INDEX[signal],
  last: ix(signal),
  hours: optional(`${signal}_hours_since`),
  count: optional(`${signal}_count_24h`),
  windows: windows.map((w) => ({
    ms: w.hours * HOUR_MS,
    min: optional(`${signal}_min_${w.label}`),
    max: optional(`${signal}_max_${w.label}`),
    delta: optional(`${signal}_delta_${w.label}`),
    slope: optional(`${signal}_slope_${w.label}`),
  })),
});

const DAY = [{ label: '24h', hours: 24 }];
const SERIES_SLOTS: SeriesSlots[] = [
  ...WINDOWED_VITALS.map((v) => slotsFor(v, VITAL_WINDOWS)),
  slotsFor('mean_bp', []),
  slotsFor('gcs', DAY),
  slotsFor('avpu', []),
  slotsFor('fio2', DAY),
  slotsFor('o2_flow', DAY),
  ...WINDOWED_LABS.map((l) => slotsFor(l, DAY)),
  ...SPARSE_SIGNALS.map((s) => slotsFor(s, [])),
];
const VITAL_SIGNALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const LAB_SIGNALS = WINDOWED_LABS.map((l) => SIGNAL_INDEX[l]);
const S = SIGNAL_INDEX;
// Slots of the features written by name below, looked up once (a Map lookup each, per vector, was 1.3 % of the service's CPU).
const SLOT_NAMES = ['admission_type', 'age', 'avg_word_length', 'department', 'diastolic_bp', 'event_type', 'fio2', 'gender', 'has_lab', 'has_vitals', 'heart_rate', 'hours_since_admission', 'hours_since_hospital_admission', 'in_icu', 'lab_result', 'labs_count_stay', 'labs_per_day_stay', 'mean_arterial_pressure', 'news2_air_or_oxygen', 'news2_consciousness', 'news2_heart_rate', 'news2_missing', 'news2_respiratory_rate', 'news2_spo2', 'news2_spo2_scale', 'news2_systolic_bp', 'news2_temperature', 'news2_total', 'note_hours_since', 'note_length', 'note_negated_terms', 'note_risk_terms', 'notes_count_24h', 'num_words', 'on_oxygen', 'pulse_pressure', 'qsofa', 'qsofa_missing', 'respiratory_rate', 'shock_index', 'spo2', 'spo2_fio2_ratio', 'systolic_bp', 'temperature', 'unit', 'vitals_count_stay', 'vitals_range', 'vitals_sum'] as const;
const SLOT = Object.fromEntries(SLOT_NAMES.map((n) => [n, ix(n)])) as Record<(typeof SLOT_NAMES)[number], number>;
const NOTE_CATEGORY_SLOTS = RISK_CATEGORIES.map((c) => ix(`note_${c}`));

/** Writes one series' features; returns its latest value at `at` (NaN if none). */
function writeSeries(out: Float64Array, s: Series | null, at: number, slots: SeriesSlots): void {
  const hi = s ? s.upperBound(at) : 0;
  if (!s || hi === 0) {
    if (slots.count >= 0) out[slots.count] = 0;
    return; // everything else stays NaN
  }
  const { times, values } = s;
  out[slots.last] = values[hi - 1]!;
  if (slots.hours >= 0) out[slots.hours] = (at - times[hi - 1]!) / HOUR_MS;
  if (slots.count >= 0) out[slots.count] = s.count(s.lowerBound(at - DAY_MS), hi);
  for (const w of slots.windows) {
    const lo = s.lowerBound(at - w.ms);
    const n = hi - lo;
    if (n === 0) continue;
    let min = Infinity;
    let max = -Infinity;
    let meanT = 0;
    let meanV = 0;
    for (let i = lo; i < hi; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      meanT += (times[i]! - at) / HOUR_MS;
      meanV += v;
    }
    if (w.min >= 0) out[w.min] = min;
    if (w.max >= 0) out[w.max] = max;
    if (n < 2) continue;
    if (w.delta >= 0) out[w.delta] = values[hi - 1]! - values[lo]!;
    if (w.slope >= 0) {
      meanT /= n;
      meanV /= n;
      let sxy = 0;
      let sxx = 0;
      for (let i = lo; i < hi; i++) {
        const dt = (times[i]! - at) / HOUR_MS - meanT;
        sxy += dt * (values[i]! - meanV);
        sxx += dt * dt;
      }
      if (sxx > 0) out[w.slope] = sxy / sxx;
    }
  }
}

interface Latest {
  time: number;
  value: number;
}
function latest(s: Series | null, at: number): Latest | null {
  if (!s) return null;
  const hi = s.upperBound(at);
  return hi === 0 ? null : { time: s.times[hi - 1]!, value: s.values[hi - 1]! };
}
const anyIn = (s: Series | null, from: number, at: number) => s !== null && s.upperBound(at) > s.lowerBound(from);
const nan = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** Where oxygen shows, and what value means "on oxygen": built once, not per vector. */
const OXYGEN_SOURCES: readonly { signal: number; on: (v: number) => boolean }[] = [
  { signal: S.supplemental_o2, on: (v) => v >= 1 },
  { signal: S.fio2, on: (v) => v > 0.21 },
  { signal: S.o2_flow, on: (v) => v > 0 },
];

/** 1 on oxygen, 0 on air, NaN unknown: judged at the latest oxygen observation (device, FiO2, flow). */
function oxygenStatus(state: PatientState, at: number): number {
  let time = -Infinity;
  for (const { signal } of OXYGEN_SOURCES) {
    const s = state.series[signal];
    const hi = s ? s.upperBound(at) : 0;
    if (hi > 0 && s!.times[hi - 1]! > time) time = s!.times[hi - 1]!;
  }
  if (time === -Infinity) return NaN;
  for (const { signal, on } of OXYGEN_SOURCES) {
    const s = state.series[signal];
    if (!s) continue;
    for (let i = s.lowerBound(time); i < s.length && s.times[i] === time; i++) if (on(s.values[i]!)) return 1;
  }
  return 0;
}

function consciousness(avpu: Latest | null, gcs: Latest | null): Consciousness | null {
  if (gcs && (!avpu || gcs.time > avpu.time)) return Math.round(gcs.value) >= 15 ? 'alert' : 'new_confusion';
  return avpu ? (AVPU_LEVELS[Math.round(avpu.value)] ?? null) : null;
}

/**
 * The feature vector of `state` as of event time `at`, triggered by an event of schema
 * `trigger`. Written into `into` when given (FEATURE_COUNT long; the caller reuses it), else
 * into a new array.
 */
export function featurize(state: PatientState, at: number, trigger: RawEventSchemaName, into?: Float64Array): Float64Array {
  const out = (into ?? new Float64Array(FEATURE_COUNT)).fill(NaN);
  const { series } = state;
  for (const slots of SERIES_SLOTS) writeSeries(out, series[slots.signal] ?? null, at, slots);

  // The original project's features.
  const from = at - DAY_MS;
  out[SLOT.has_lab] = LAB_SIGNALS.some((i) => anyIn(series[i] ?? null, from, at)) ? 1 : 0;
  out[SLOT.has_vitals] = VITAL_SIGNALS.some((i) => anyIn(series[i] ?? null, from, at)) ? 1 : 0;
  let lab: Latest | null = null;
  for (const i of LAB_SIGNALS) {
    const l = latest(series[i] ?? null, at);
    if (l && (!lab || l.time > lab.time || (l.time === lab.time && l.value > lab.value))) lab = l;
  }
  out[SLOT.lab_result] = nan(lab?.value);
  const hr = out[SLOT.heart_rate]!;
  const temp = out[SLOT.temperature]!;
  const rr = out[SLOT.respiratory_rate]!;
  out[SLOT.vitals_sum] = hr + temp + rr; // NaN if any is NaN
  out[SLOT.vitals_range] = Math.max(hr, temp, rr) - Math.min(hr, temp, rr);
  out[SLOT.department] = state.admission?.department ?? 0;
  out[SLOT.event_type] = EVENT_TYPE_CODES[trigger];

  // How much was measured over the stay (ordering is itself a signal).
  out[SLOT.vitals_count_stay] = state.stayCounts.vitals;
  out[SLOT.labs_count_stay] = state.stayCounts.labs;
  out[SLOT.labs_per_day_stay] = Number.isFinite(state.firstTime) ? (state.stayCounts.labs * 24) / Math.max(1, (at - state.firstTime) / HOUR_MS) : NaN;

  // Derived haemodynamics and oxygen.
  const sbp = out[SLOT.systolic_bp]!;
  const dbp = out[SLOT.diastolic_bp]!;
  const spo2 = out[SLOT.spo2]!;
  out[SLOT.pulse_pressure] = sbp - dbp;
  out[SLOT.mean_arterial_pressure] = (sbp + 2 * dbp) / 3;
  out[SLOT.shock_index] = sbp > 0 ? hr / sbp : NaN;
  const onOxygen = oxygenStatus(state, at);
  out[SLOT.on_oxygen] = onOxygen;
  const fio2 = onOxygen === 1 ? out[SLOT.fio2]! : onOxygen === 0 ? 0.21 : NaN;
  out[SLOT.spo2_fio2_ratio] = spo2 / fio2;

  // NEWS2 and qSOFA, from the shared clinical code.
  const avpu = latest(series[S.avpu] ?? null, at);
  const gcs = latest(series[S.gcs] ?? null, at);
  const scale = state.spo2Scale?.scale ?? 1;
  const n = news2({
    respiratoryRate: orNull(rr),
    spo2: orNull(spo2),
    spo2Scale: scale,
    onOxygen: Number.isNaN(onOxygen) ? null : onOxygen === 1,
    systolicBp: orNull(sbp),
    heartRate: orNull(hr),
    consciousness: consciousness(avpu, gcs),
    temperature: orNull(temp),
  });
  out[SLOT.news2_total] = n.total;
  out[SLOT.news2_respiratory_rate] = nan(n.parts.respiratoryRate);
  out[SLOT.news2_spo2] = nan(n.parts.spo2);
  out[SLOT.news2_air_or_oxygen] = nan(n.parts.airOrOxygen);
  out[SLOT.news2_systolic_bp] = nan(n.parts.systolicBp);
  out[SLOT.news2_heart_rate] = nan(n.parts.heartRate);
  out[SLOT.news2_consciousness] = nan(n.parts.consciousness);
  out[SLOT.news2_temperature] = nan(n.parts.temperature);
  out[SLOT.news2_missing] = n.missing.length;
  out[SLOT.news2_spo2_scale] = scale;
  const q = qsofa({ respiratoryRate: orNull(rr), systolicBp: orNull(sbp), gcs: gcs ? gcs.value : avpu ? (Math.round(avpu.value) === 0 ? 15 : 14) : null });
  out[SLOT.qsofa] = q.score;
  out[SLOT.qsofa_missing] = q.missing.length;

  // Notes.
  const { notes } = state;
  let last = notes.length - 1;
  while (last >= 0 && notes[last]!.time > at) last--;
  let inWindow = 0;
  let affirmed = 0;
  let negated = 0;
  for (let i = last; i >= 0 && notes[i]!.time >= from; i--) {
    inWindow += notes[i]!.count ?? 1;
    affirmed |= notes[i]!.affirmed;
    negated |= notes[i]!.negated;
  }
  if (last >= 0) {
    const note = notes[last]!;
    out[SLOT.note_length] = note.length;
    out[SLOT.num_words] = note.words;
    out[SLOT.avg_word_length] = note.avgWordLength;
    out[SLOT.note_hours_since] = (at - note.time) / HOUR_MS;
  }
  out[SLOT.notes_count_24h] = inWindow;
  if (inWindow > 0) {
    NOTE_CATEGORY_SLOTS.forEach((slot, bit) => (out[slot] = (affirmed >> bit) & 1));
    out[SLOT.note_risk_terms] = popcount(affirmed);
    out[SLOT.note_negated_terms] = popcount(negated & ~affirmed);
  }

  // Who and where.
  const { admission, location } = state;
  out[SLOT.gender] = admission?.gender ?? 0;
  out[SLOT.admission_type] = admission?.admissionType ?? 0;
  out[SLOT.unit] = location?.unit ?? 0;
  out[SLOT.in_icu] = location ? (location.icu ? 1 : 0) : NaN;
  out[SLOT.age] = admission ? admission.age : NaN;
  out[SLOT.hours_since_admission] = admission ? (at - admission.time) / HOUR_MS : NaN;
  const hospitalSince = admission && !Number.isNaN(admission.hospitalAdmitTime) ? Math.min(admission.time, admission.hospitalAdmitTime) : admission?.time;
  out[SLOT.hours_since_hospital_admission] = hospitalSince === undefined ? NaN : (at - hospitalSince) / HOUR_MS;

  writeSepsisFeatures(out, state, at);
  return out;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/** Vector → name → value, NaN (and ±Infinity, which JSON cannot carry) → null: the message form. */
export function toFeatureValues(values: Float64Array): FeatureValues {
  const record: FeatureValues = {};
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const v = values[i]!;
    record[FEATURE_NAMES[i]!] = Number.isFinite(v) ? v : null;
  }
  return record;
}
