// The band a score is served with: the model's band, never calmer than NEWS2's response
// tier (RCP 2017: aggregate ≥ 7 emergency → high; ≥ 5, or 3 in any one parameter, urgent →
// medium). Each served band says which rule set it, so a clinician can tell the model's
// judgement from NEWS2's floor.
import type { FeatureValues } from '../schemas/feature-vector.js';
import type { SeverityBand } from '../schemas/severity-score.js';

export type BandSource = 'model' | 'news2';

export interface ServedBand {
  band: SeverityBand;
  /** Which rule set the band: the model's thresholds, or NEWS2's tier (the floor, or no model). */
  source: BandSource;
  /** One line for the ward: why this band. */
  reason: string;
}

/** The NEWS2 parameters as the feature vector carries them (points, null when not measured). */
export const NEWS2_PART_FEATURES = [
  ['news2_respiratory_rate', 'respiration rate'],
  ['news2_spo2', 'SpO2'],
  ['news2_air_or_oxygen', 'air or oxygen'],
  ['news2_systolic_bp', 'systolic BP'],
  ['news2_heart_rate', 'pulse'],
  ['news2_consciousness', 'consciousness'],
  ['news2_temperature', 'temperature'],
] as const;

export interface News2Tier {
  band: SeverityBand;
  total: number | null;
  /** Parameters scoring 3 (names as in NEWS2_PART_FEATURES' second column). */
  threes: string[];
  reason: string;
}

const RANK: Readonly<Record<SeverityBand, number>> = { low: 0, medium: 1, high: 2 };

/** NEWS2's response tier from the aggregate and the parameters scoring 3. */
export function news2Tier(total: number | null, threes: readonly string[] = []): News2Tier {
  if (total !== null && total >= 7) return { band: 'high', total, threes: [...threes], reason: `NEWS2 ${total} (≥ 7: emergency response)` };
  if (total !== null && total >= 5) return { band: 'medium', total, threes: [...threes], reason: `NEWS2 ${total} (≥ 5: urgent response)` };
  if (threes.length > 0) return { band: 'medium', total, threes: [...threes], reason: `NEWS2 scores 3 for ${threes.join(', ')} (urgent review)` };
  return { band: 'low', total, threes: [], reason: total === null ? 'NEWS2 not available' : `NEWS2 ${total}` };
}

/** NEWS2's tier read from a feature vector (message form: name → value or null). */
export function news2TierOf(features: Readonly<FeatureValues>): News2Tier {
  const total = Object.hasOwn(features, 'news2_total') ? (features.news2_total ?? null) : null;
  const threes: string[] = [];
  for (const [name, label] of NEWS2_PART_FEATURES) if (Object.hasOwn(features, name) && features[name] === 3) threes.push(label);
  return news2Tier(total, threes);
}

export interface ServedBandInput {
  /** The model's band (null when no model is loaded, or it has no band thresholds). */
  modelBand: SeverityBand | null;
  /** The model's reported probability, for the reason line. */
  probability?: number | null;
  /** NEWS2's tier (news2TierOf(features) for a feature vector). */
  news2: News2Tier;
}

/** The higher of the model's band and NEWS2's tier; ties go to the model. */
export function servedBand(input: ServedBandInput): ServedBand {
  const { modelBand, news2 } = input;
  if (modelBand === null) return { band: news2.band, source: 'news2', reason: `no model band: ${news2.reason}` };
  if (RANK[news2.band] > RANK[modelBand]) return { band: news2.band, source: 'news2', reason: `${news2.reason}; the model alone says ${modelBand}` };
  const p = input.probability;
  const risk = typeof p === 'number' && Number.isFinite(p) ? `model risk ${(p * 100).toFixed(p < 0.1 ? 1 : 0)} %` : 'model';
  return { band: modelBand, source: 'model', reason: `${risk} (${modelBand} band); ${news2.reason}` };
}
