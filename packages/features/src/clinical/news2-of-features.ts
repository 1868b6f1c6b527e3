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
