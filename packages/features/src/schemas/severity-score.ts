import { Type, type Static } from '@sinclair/typebox';
import { DateTime, EventId, Spo2Scale } from './common.js';
import { envelope } from './envelope.js';
import { FeatureValues, type FeatureVectorEvent } from './feature-vector.js';

export const SeverityBand = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);
export type SeverityBand = Static<typeof SeverityBand>;

export const News2Band = Type.Union([Type.Literal('low'), Type.Literal('low_medium'), Type.Literal('medium'), Type.Literal('high')]);
export type News2Band = Static<typeof News2Band>;

/** Longest model name and version a score carries (the model artifact refuses longer ones). */
export const MODEL_NAME_MAX = 128;
export const MODEL_VERSION_MAX = 64;

export const TopFeature = Type.Object(
  {
    // A catalogue name (FeatureValues' keys are as long at most).
    feature: Type.String({ maxLength: 96 }),
    value: Type.Union([Type.Number(), Type.Null()]),
    contribution: Type.Number({ description: 'Change in probability of severe attributed to this feature (tree-path attribution)' }),
  },
  { additionalProperties: false },
);
export type TopFeature = Static<typeof TopFeature>;

/**
 * Where the patient was when scored, copied from the feature vector's context (optional:
 * the dashboard filters by unit with it and shows "unknown" without it).
 */
export const ScoreContext = Type.Object(
  {
    unit: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    department: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    spo2Scale: Type.Optional(Spo2Scale),
  },
  { additionalProperties: false },
);
export type ScoreContext = Static<typeof ScoreContext>;

export const SeverityScorePayload = Type.Object(
  {
    scoreId: EventId,
    featureEventId: EventId,
    triggerEventId: Type.Optional(EventId),
    eventTime: DateTime,
    scoredAt: DateTime,
    mode: Type.Union([Type.Literal('model'), Type.Literal('news2_only')], {
      description: 'news2_only when no model is loaded: probability is null and the band follows NEWS2',
    }),
    probability: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
    band: SeverityBand,
    bandSource: Type.Optional(
      Type.Union([Type.Literal('model'), Type.Literal('news2')], { description: 'which rule set the band: the model, or NEWS2\'s response tier (its floor, or no model)' }),
    ),
    bandReason: Type.Optional(Type.String({ maxLength: 240, description: 'one line: why this band' })),
    news2: Type.Union([Type.Integer({ minimum: 0, maximum: 20 }), Type.Null()]),
    news2Band: Type.Union([News2Band, Type.Null()]),
    // Bounded as the model artifact bounds them: every reader keeps these per score.
    model: Type.Union([Type.Object({ name: Type.String({ maxLength: MODEL_NAME_MAX }), version: Type.String({ maxLength: MODEL_VERSION_MAX }) }, { additionalProperties: false }), Type.Null()]),
    features: FeatureValues,
    topFeatures: Type.Array(TopFeature, { maxItems: 50 }),
    latencyMs: Type.Number({ minimum: 0 }),
    context: Type.Optional(ScoreContext),
  },
  { additionalProperties: false },
);
export type SeverityScorePayload = Static<typeof SeverityScorePayload>;

export const SeverityScoreEvent = envelope('severity_score', 1, SeverityScorePayload);
export type SeverityScoreEvent = Static<typeof SeverityScoreEvent>;

/** What a scorer decides about a feature vector; the rest of its score comes from the vector. */
export type ScoreJudgement = Omit<SeverityScorePayload, 'scoreId' | 'featureEventId' | 'triggerEventId' | 'eventTime' | 'scoredAt'>;

/**
 * The score of a feature vector: the patient, the event time and the lineage (the vector, and
 * the raw event whose arrival produced it, so the warehouse can trace every input) from the
 * vector; the judgement from the scorer. The payload's keys keep their order on the wire.
 */
export function severityScoreOf(vector: FeatureVectorEvent, scoreId: string, scoredAt: Date, judgement: ScoreJudgement): SeverityScoreEvent {
  const at = scoredAt.toISOString();
  return {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: scoreId,
    patientId: vector.patientId,
    encounterId: vector.encounterId,
    occurredAt: vector.payload.asOf,
    producedAt: at,
    source: 'scoring-service',
    payload: { scoreId, featureEventId: vector.eventId, triggerEventId: vector.payload.triggerEventId, eventTime: vector.payload.asOf, scoredAt: at, ...judgement },
  };
}
