// Severity scores as the scoring service emits them, for tests and the bench.
import { decodeSeverityScore, deterministicId, type SeverityBand, type SeverityScoreEvent } from '@ehr/features';

export interface ScoreSpec {
  patientId: string;
  /** Event time, epoch ms. */
  t: number;
  band: SeverityBand;
  probability?: number | null;
  news2?: number | null;
  unit?: string | null;
  vitals?: Partial<Record<'heart_rate' | 'respiratory_rate' | 'spo2' | 'systolic_bp' | 'temperature', number | null>>;
  model?: { name: string; version: string } | null;
}

const NEWS2_BAND = (n: number) => (n >= 7 ? 'high' : n >= 5 ? 'medium' : 'low');

export function makeScore(spec: ScoreSpec): SeverityScoreEvent {
  const eventTime = new Date(spec.t).toISOString();
  const scoreId = deterministicId('score', spec.patientId, eventTime);
  const news2 = spec.news2 === undefined ? ({ low: 2, medium: 5, high: 8 } as const)[spec.band] : spec.news2;
  const probability = spec.probability === undefined ? ({ low: 0.05, medium: 0.3, high: 0.8 } as const)[spec.band] : spec.probability;
  const v = { heart_rate: 80, respiratory_rate: 16, spo2: 97, systolic_bp: 120, temperature: 37, ...spec.vitals };
  const model = spec.model === undefined ? { name: 'severity-rf', version: '1.0.0' } : spec.model;
  return {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: scoreId,
    patientId: spec.patientId,
    encounterId: `enc-${spec.patientId}`,
    occurredAt: eventTime,
    producedAt: eventTime,
    source: 'scoring-service',
    payload: {
      scoreId,
      featureEventId: deterministicId('features', spec.patientId, eventTime),
      eventTime,
      scoredAt: new Date(spec.t + 5).toISOString(),
      mode: model ? 'model' : 'news2_only',
      probability: model ? probability : null,
      band: spec.band,
      news2,
      news2Band: news2 === null ? null : NEWS2_BAND(news2),
      model,
      features: {
        heart_rate_last: v.heart_rate,
        heart_rate_delta_1h: 3,
        respiratory_rate_last: v.respiratory_rate,
        spo2_last: v.spo2,
        systolic_bp_last: v.systolic_bp,
        systolic_bp_min_6h: 100,
        temperature_last: v.temperature,
        lactate_last: 1.4,
      },
      topFeatures: [
        { feature: 'respiratory_rate_last', value: v.respiratory_rate, contribution: 0.12 },
        { feature: 'lactate_last', value: 1.4, contribution: 0.05 },
        { feature: 'spo2_last', value: v.spo2, contribution: -0.02 },
      ],
      latencyMs: 3,
      ...(spec.unit === undefined ? {} : { context: { unit: spec.unit } }),
    },
  };
}

/** Bytes for the bus; throws if the fixture ever stops matching the contract. */
export function scoreBytes(spec: ScoreSpec): string {
  const json = JSON.stringify(makeScore(spec));
  const check = decodeSeverityScore(json);
  if (!check.ok) throw new Error(`fixture is not a valid severity score: ${check.error}`);
  return json;
}
