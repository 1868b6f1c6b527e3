import { Type, type Static } from '@sinclair/typebox';
import { DateTime, EventId } from './common.js';
import { envelope } from './envelope.js';

/** name → value; null marks a feature that could not be computed (explicitly missing). */
export const FeatureValues = Type.Record(Type.String({ minLength: 1, maxLength: 96 }), Type.Union([Type.Number(), Type.Null()]));
export type FeatureValues = Static<typeof FeatureValues>;

export const FeatureVectorPayload = Type.Object(
  {
    featureSetVersion: Type.String({ minLength: 1, maxLength: 32, description: 'Version of the documented feature list' }),
    asOf: DateTime,
    triggerEventId: EventId,
    features: FeatureValues,
    context: Type.Object(
      {
        unit: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
        department: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
        spo2Scale: Type.Union([Type.Literal(1), Type.Literal(2)]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type FeatureVectorPayload = Static<typeof FeatureVectorPayload>;

export const FeatureVectorEvent = envelope('feature_vector', 1, FeatureVectorPayload);
export type FeatureVectorEvent = Static<typeof FeatureVectorEvent>;
