import type { ValidationIssue } from '../schemas/dead-letter.js';
import type { FeatureValues } from '../schemas/feature-vector.js';
import type { News2Band } from '../schemas/severity-score.js';
import { news2Band, type News2Parts } from './news2.js';

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
 * Missing values are fine (NEWS2 is then null).
 */
export function news2Problems(features: Readonly<FeatureValues>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const check = (name: string, max: number) => {
    const v = Object.hasOwn(features, name) ? features[name] : null;
    if (typeof v === 'number' && Number.isFinite(v) && !(Number.isInteger(v) && v >= 0 && v <= max)) {
      issues.push({ path: `payload.features.${name}`, message: `${v} is not a NEWS2 ${name === 'news2_total' ? 'total' : 'part'} (a whole number from 0 to ${max})` });
    }
  };
  check('news2_total', TOTAL_MAX);
  for (const name of Object.values(PART_FEATURES)) check(name, PART_MAX);
  return issues;
}
