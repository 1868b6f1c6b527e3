import {
  deterministicId,
  news2OfFeatures,
  news2TierOf,
  servedBand,
  type FeatureVectorEvent,
  type SeverityBand,
  type SeverityScoreEvent,
  type TopFeature,
} from '@ehr/features';
import type { SeverityModel } from '@ehr/model';

/** The schema's limit for the one-line reason. */
const MAX_REASON = 240;

export interface ScoredVector {
  score: SeverityScoreEvent;
  /** Time spent in the model (prediction + explanation), microseconds. */
  inferenceMicros: number;
}

/**
 * One feature vector → the augmented score record: the vector, the model's probability
 * and band (or NEWS2 alone when there is no model, marked as such), NEWS2 and its band,
 * the top contributions, model name and version, and latency. Pure but for the clock.
 */
export function scoreVector(
  vector: FeatureVectorEvent,
  model: SeverityModel | null,
  options: { topK: number; now: () => Date },
): ScoredVector {
  const { features } = vector.payload;
  const news2 = news2OfFeatures(features);
  let probability: number | null = null;
  let modelBand: SeverityBand | null = null;
  let topFeatures: TopFeature[] = [];
  let inferenceMicros = 0;

  if (model) {
    const started = process.hrtime.bigint();
    const s = model.score(model.rowFrom(features), options.topK);
    inferenceMicros = Number(process.hrtime.bigint() - started) / 1000;
    probability = s.probability;
    modelBand = s.band ?? model.band(s.probability);
    topFeatures = s.contributions.map((c) => ({ feature: c.name ?? model.featureNames[c.feature]!, value: c.value, contribution: c.contribution }));
  }
  // Never calmer than NEWS2's own response tier (≥ 7 high; ≥ 5 or a single parameter at 3
  // medium); the score says which rule set the band, and why.
  const served = servedBand({ modelBand, probability, news2: news2TierOf(features) });

  const scoredAt = options.now();
  const scoreId = deterministicId('severity-score', vector.eventId, model ? `${model.name}@${model.version}` : 'news2-only');
  const latencyMs = Math.max(0, scoredAt.getTime() - Date.parse(vector.producedAt));
  return {
    inferenceMicros,
    score: {
      schema: 'severity_score',
      schemaVersion: 1,
      eventId: scoreId,
      patientId: vector.patientId,
      encounterId: vector.encounterId,
      occurredAt: vector.payload.asOf,
      producedAt: scoredAt.toISOString(),
      source: 'scoring-service',
      payload: {
        scoreId,
        featureEventId: vector.eventId,
        // The raw event whose arrival produced the vector: lets the warehouse trace every input.
        triggerEventId: vector.payload.triggerEventId,
        eventTime: vector.payload.asOf,
        scoredAt: scoredAt.toISOString(),
        mode: model ? 'model' : 'news2_only',
        probability,
        band: served.band,
        bandSource: served.source,
        bandReason: served.reason.length > MAX_REASON ? `${served.reason.slice(0, MAX_REASON - 1)}…` : served.reason,
        news2: news2.total,
        news2Band: news2.band,
        model: model ? { name: model.name, version: model.version } : null,
        features,
        topFeatures,
        latencyMs,
        context: { unit: vector.payload.context.unit, department: vector.payload.context.department, spo2Scale: vector.payload.context.spo2Scale },
      },
    },
  };
}
