import type { ValidationIssue } from '../schemas/dead-letter.js';
import type { FeatureValues } from '../schemas/feature-vector.js';
import type { News2Band } from '../schemas/severity-score.js';
import { consciousnessScore, news2, news2Band, type News2Parts } from './news2.js';
import { AVPU_LEVELS, type Consciousness } from './signals.js';

// The feature service publishes NEWS2 and each of its parts among the features, so the
// score's NEWS2 is exactly the one the model saw.
const PART_FEATURES: Record<keyof News2Parts, string> = {
  respiratoryRate: 'news2_respiratory_rate',
  spo2: 'news2_spo2',
  airOrOxygen: 'news2_air_or_oxygen',
  systolicBp: 'news2_systolic_bp',
  heartRate: 'news2_heart_rate',
  consciousness: 'news2_consciousness',
  temperature: 'news2_temperature',
};

export interface News2OfVector {
  total: number | null;
  band: News2Band | null;
}

/** NEWS2 total and band from a feature vector; null when not one parameter was scored. */
export function news2OfFeatures(features: FeatureValues): News2OfVector {
  const parts = {} as News2Parts;
  let scored = 0;
  for (const [part, name] of Object.entries(PART_FEATURES) as [keyof News2Parts, string][]) {
    const v = features[name];
    parts[part] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    if (parts[part] !== null) scored++;
  }
  const total = features.news2_total;
  if (scored === 0 || typeof total !== 'number' || !Number.isFinite(total)) return { total: null, band: null };
  const rounded = Math.round(total);
  return { total: rounded, band: news2Band(rounded, parts) };
}

/** The most a NEWS2 part scores (RCP 2017), and the most the total can be. */
const PART_MAX = 3;
const TOTAL_MAX = 20;

/**
 * Why a vector's NEWS2 (its total and parts, as the feature service publishes them) cannot be
 * one: a total outside 0–20 or a part outside 0–3, or not a whole number. The vector schema
 * lets any number through; a score made from such a one broke the score's own schema
 * (`news2` 0–20) and was dead-lettered downstream, with the vector that caused it unnamed.
 * Also a total that is not the sum of the parts given (the feature service's total counts
 * every part it scored, and a missing part adds 0): the served band's floor reads the total,
 * so `news2_total: 0` beside parts summing to 8 was served `low`, calmer than NEWS2's own
 * emergency tier. And a part the vital sign beside it contradicts, or a vital sign beside no
 * part (`partsAgainstVitals`). Missing values are fine otherwise (NEWS2 is then null).
 * `features` is a record, or a frame's values read by name (`featureLookup`).
 */
export function news2Problems(features: Readonly<FeatureValues> | FeatureLookup): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const valueOf: FeatureLookup = typeof features === 'function' ? features : finiteValueOf(features);
  const check = (name: string, max: number) => {
    const v = valueOf(name);
    if (typeof v === 'number' && Number.isFinite(v) && !(Number.isInteger(v) && v >= 0 && v <= max)) {
      issues.push({ path: `payload.features.${name}`, message: `${v} is not a NEWS2 ${name === 'news2_total' ? 'total' : 'part'} (a whole number from 0 to ${max})` });
    }
  };
  check('news2_total', TOTAL_MAX);
  for (const name of Object.values(PART_FEATURES)) check(name, PART_MAX);
  if (issues.length > 0) return issues;
  let sum = 0;
  let given = 0;
  for (const name of Object.values(PART_FEATURES)) {
    const v = valueOf(name);
    if (typeof v === 'number' && Number.isFinite(v)) {
      sum += v;
      given++;
    }
  }
  if (given > 0) {
    const total = valueOf('news2_total');
    if (typeof total !== 'number' || !Number.isFinite(total)) {
      issues.push({ path: 'payload.features.news2_total', message: `news2_total is missing, but ${given} of its parts are given (they sum to ${sum})` });
    } else if (total !== sum) {
      issues.push({ path: 'payload.features.news2_total', message: `news2_total ${total} is not the sum of the NEWS2 parts given (${sum})` });
    }
  }
  return [...issues, ...partsAgainstVitals(valueOf)];
}

/** A feature's value by name (null: missing, or not finite): a record's, or a frame's values read in place. */
export type FeatureLookup = (name: string) => number | null;

/**
 * The parts held against the vital signs beside them: the feature service scores each part
 * from exactly the values it publishes, so a vector with `respiratory_rate: 30` and
 * `news2_respiratory_rate` 0 (or none), or vitals beside no NEWS2 at all, was made by
 * something else, and the served band's floor would rest on a NEWS2 calmer than the
 * patient's. Consciousness: the feature service reads the more recent of `avpu` and `gcs`,
 * and a vector carries no times, so a part either of them scores is accepted.
 */
function partsAgainstVitals(valueOf: FeatureLookup): ValidationIssue[] {
  // On every vector scoring reads: module-level tables, no array or set per call.
  const scored = news2(vitalsInput(valueOf));
  let issues: ValidationIssue[] | null = null;
  const tell = (part: keyof News2Parts, name: string, given: number | null, scores: string) =>
    (issues ??= []).push({
      path: `payload.features.${name}`,
      message: given === null ? `${name} is missing, but ${vitalsOf(part, valueOf)} is given (NEWS2 scores it ${scores})` : `${name} ${given} disagrees with ${vitalsOf(part, valueOf)}, which NEWS2 scores ${scores}`,
    });
  for (const [part, name] of VITAL_PARTS) {
    const computed = scored.parts[part];
    if (computed === null) continue;
    const given = valueOf(name);
    if (given !== computed) tell(part, name, given, String(computed));
  }
  const avpu = levelOfAvpu(valueOf('avpu'));
  const gcs = levelOfGcs(valueOf('gcs'));
  if (avpu !== null || gcs !== null) {
    const ofAvpu = avpu === null ? null : consciousnessScore(avpu);
    const ofGcs = gcs === null ? null : consciousnessScore(gcs);
    const given = valueOf(PART_FEATURES.consciousness);
    if (given === null || (given !== ofAvpu && given !== ofGcs)) {
      tell('consciousness', PART_FEATURES.consciousness, given, ofAvpu !== null && ofGcs !== null && ofAvpu !== ofGcs ? `${ofAvpu} or ${ofGcs}` : String(ofAvpu ?? ofGcs));
    }
  }
  return issues ?? [];
}

/** The vital sign (as a snapshot names it) each NEWS2 part is scored from; consciousness is scored from `avpu` or `gcs`. */
const VITAL_OF_PART: Readonly<Partial<Record<keyof News2Parts, string>>> = {
  respiratoryRate: 'respiratory_rate',
  spo2: 'spo2',
  airOrOxygen: 'on_oxygen',
  systolicBp: 'systolic_bp',
  heartRate: 'heart_rate',
  temperature: 'temperature',
};

/** The vital signs a NEWS2 check reads, besides NEWS2's own features (what a vector's check must be handed). */
export const NEWS2_VITAL_FEATURES: readonly string[] = [...Object.values(VITAL_OF_PART), 'avpu', 'gcs', 'news2_spo2_scale'];

const finiteValueOf =
  (features: Readonly<Record<string, number | null>>): FeatureLookup =>
  (name: string): number | null => {
    const v = Object.hasOwn(features, name) ? features[name] : null;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };

/** The consciousness level of `avpu` (0 alert … 4 unresponsive) and of `gcs` (15 alert, below it new confusion), as the feature service reads them. */
const levelOfAvpu = (avpu: number | null): Consciousness | null => (avpu === null ? null : (AVPU_LEVELS[Math.round(avpu)] ?? null));
const levelOfGcs = (gcs: number | null): Consciousness | null => (gcs === null ? null : Math.round(gcs) >= 15 ? 'alert' : 'new_confusion');

/** `avpu 3 and gcs 15`, `respiratory_rate 30`: the values a part was scored from, for a message. */
function vitalsOf(part: keyof News2Parts, valueOf: (name: string) => number | null): string {
  const names = part === 'consciousness' ? ['avpu', 'gcs'] : [VITAL_OF_PART[part]!];
  return names
    .filter((n) => valueOf(n) !== null)
    .map((n) => `${n} ${valueOf(n)}`)
    .join(' and ');
}

/** NEWS2's input from the vital signs given (consciousness apart: it is read from `avpu` and `gcs`). */
function vitalsInput(valueOf: (name: string) => number | null) {
  const onOxygen = valueOf('on_oxygen');
  return {
    respiratoryRate: valueOf('respiratory_rate'),
    spo2: valueOf('spo2'),
    spo2Scale: valueOf('news2_spo2_scale') === 2 ? (2 as const) : (1 as const),
    onOxygen: onOxygen === null ? null : onOxygen > 0,
    systolicBp: valueOf('systolic_bp'),
    heartRate: valueOf('heart_rate'),
    temperature: valueOf('temperature'),
  };
}

/** The parts scored from one vital sign each, with their feature names. */
const VITAL_PARTS = (Object.entries(PART_FEATURES) as [keyof News2Parts, string][]).filter(([part]) => part !== 'consciousness');

/**
 * A snapshot's features (POST /score with named values) with NEWS2 worked out from its vital
 * signs, as the feature service does from the same latest values: a caller who sends
 * `respiratory_rate: 30, systolic_bp: 85, heart_rate: 140` and no NEWS2 had the band served
 * `low` ("NEWS2 not available") where NEWS2 scores 9, and one who sends `avpu: 4`
 * (unresponsive) had consciousness unscored. A snapshot has no times: of `avpu` and `gcs`, the
 * worse counts. NEWS2 features the caller did give must agree with the vitals (issues name
 * each one that does not); a snapshot without any of the vitals keeps its NEWS2 features as
 * given (news2Problems still checks them).
 */
export function news2FromSnapshotVitals(features: Readonly<Record<string, number | null>>): { features: Record<string, number | null>; issues: ValidationIssue[] } {
  const valueOf = finiteValueOf(features);
  if (NEWS2_VITAL_FEATURES.every((name) => name === 'news2_spo2_scale' || valueOf(name) === null)) return { features: { ...features }, issues: [] };
  // A snapshot has no times: of avpu and gcs, the worse level counts.
  const levels = [levelOfAvpu(valueOf('avpu')), levelOfGcs(valueOf('gcs'))].filter((l): l is Consciousness => l !== null);
  const consciousness = levels.length === 0 ? null : levels.reduce((a, b) => (consciousnessScore(b) > consciousnessScore(a) ? b : a));
  const scored = news2({ ...vitalsInput(valueOf), consciousness });
  const out: Record<string, number | null> = { ...features };
  const issues: ValidationIssue[] = [];
  for (const [part, name] of Object.entries(PART_FEATURES) as [keyof News2Parts, string][]) {
    const computed = scored.parts[part];
    if (computed === null) continue;
    const given = valueOf(name);
    if (given !== null && given !== computed) issues.push({ path: `payload.features.${name}`, message: `${name} ${given} disagrees with ${vitalsOf(part, valueOf)}, which NEWS2 scores ${computed}` });
    out[name] = computed;
  }
  let total = 0;
  for (const name of Object.values(PART_FEATURES)) {
    const v = out[name];
    if (typeof v === 'number' && Number.isFinite(v)) total += v;
  }
  const givenTotal = valueOf('news2_total');
  if (givenTotal !== null && givenTotal !== total && issues.length === 0) {
    issues.push({ path: 'payload.features.news2_total', message: `news2_total ${givenTotal} disagrees with the vital signs given, which NEWS2 scores ${total}` });
  }
  out.news2_total = total;
  return { features: out, issues };
}
