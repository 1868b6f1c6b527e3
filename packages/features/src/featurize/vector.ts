import { deterministicId } from '../ids.js';
import type { FeatureVectorEvent } from '../schemas/feature-vector.js';
import { FEATURE_SET_VERSION } from './catalog.js';
import type { FeatureDraft } from './engine.js';
import { toFeatureValues } from './featurize.js';

/** The vector's id derives from what it describes, so a replay (or a restart) yields the same id. */
export const featureVectorId = (patientId: string, triggerEventId: string) =>
  deterministicId('feature_vector', FEATURE_SET_VERSION, patientId, triggerEventId);

/** A draft as the message on `ehr.features.v1`. Only `producedAt` is wall-clock time. */
export function toFeatureVectorEvent(draft: FeatureDraft, producedAt: Date = new Date()): FeatureVectorEvent {
  const asOf = new Date(draft.asOf).toISOString();
  return {
    schema: 'feature_vector',
    schemaVersion: 1,
    eventId: featureVectorId(draft.patientId, draft.triggerEventId),
    patientId: draft.patientId,
    encounterId: draft.encounterId,
    occurredAt: asOf,
    producedAt: producedAt.toISOString(),
    source: 'feature-service',
    payload: {
      featureSetVersion: FEATURE_SET_VERSION,
      asOf,
      triggerEventId: draft.triggerEventId,
      features: toFeatureValues(draft.values),
      context: draft.context,
    },
  };
}
