// What the alert policy reads from a score: the model's probability, NEWS2 and its band,
// the served band, the unit, and when the last set of observations was taken. The live
// service builds it from ehr.scores.v1, the replay from hourly rows: one machine for both.
import { catalogueOf, pickFeatures, type FeatureValues, type News2Band, type SeverityBand, type SeverityScoreEvent } from '@ehr/features';

export interface ScoreInput {
  scoreId: string;
  patientId: string;
  encounterId: string | null;
  /** Event time of the score (the observation it follows), epoch ms. */
  at: number;
  probability: number | null;
  news2: number | null;
  news2Band: News2Band | null;
  /** The served band (never calmer than NEWS2's tier). */
  band: SeverityBand;
  unit: string | null;
  /** When the last set of observations was complete (epoch ms); null when none was ever taken. */
  observedAt: number | null;
}

/** A score's readings without whose it is: what a patient's state keeps of its latest score, and what the replay has for each hour of a stay. */
export type ScoreReadings = Pick<ScoreInput, 'at' | 'probability' | 'news2' | 'news2Band' | 'band' | 'observedAt'>;

/** Longer ago than any stay: a `*_hours_since` past it is not a measurement time (a century). */
const MAX_HOURS_SINCE = 100 * 365 * 24;

/**
 * The vitals every set of observations has. Temperature and consciousness are left out on
 * purpose: in the ICU data we measured they are charted about every 4 h while these four are
 * hourly, so requiring them would flag nearly every monitored patient as overdue.
 */
export const OBSERVATION_SET_FEATURES = ['respiratory_rate_hours_since', 'spo2_hours_since', 'systolic_bp_hours_since', 'heart_rate_hours_since'] as const;

/**
 * When the patient's last set of observations was complete: the oldest of the latest
 * measurements of the set's vitals (each feature says how many hours before `at` it was
 * taken); vitals never measured do not count. Null when none was ever measured.
 */
export function observationSetAt(features: Readonly<FeatureValues>, at: number): number | null {
  let oldest: number | null = null;
  for (const name of OBSERVATION_SET_FEATURES) {
    const hours = Object.hasOwn(features, name) ? features[name] : null;
    // A number the schema allows but no measurement can be (1e10 h put the time outside what a
    // Date holds, and the clock's next overdue check threw on it for every patient): as never measured.
    if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0 || hours > MAX_HOURS_SINCE) continue;
    oldest = oldest === null ? hours : Math.max(oldest, hours);
  }
  return oldest === null ? null : at - Math.round(oldest * 3_600_000);
}

/**
 * The observation set's features of a score. A payload decoded from a frame is read by
 * catalogue index: building its 211-name record for four values was 8 % of alerting's share
 * of `npm start`'s CPU (issue 18).
 */
function observationSetOf(payload: SeverityScoreEvent['payload']): Readonly<FeatureValues> {
  const catalogue = catalogueOf(payload);
  return catalogue === undefined ? payload.features : pickFeatures(catalogue.values, OBSERVATION_SET_FEATURES);
}

export function scoreInputOf(score: SeverityScoreEvent): ScoreInput {
  const p = score.payload;
  const at = Date.parse(p.eventTime);
  return {
    scoreId: p.scoreId,
    patientId: score.patientId,
    encounterId: score.encounterId,
    at,
    probability: p.probability,
    news2: p.news2,
    news2Band: p.news2Band,
    band: p.band,
    unit: p.context?.unit ?? null,
    observedAt: observationSetAt(observationSetOf(p), at),
  };
}
