// ehr.features.v1 on the wire: a frame of kind 'V' (envelope JSON + packed values).
import type { FeatureDraft } from '../featurize/engine.js';
import { FEATURE_SET_VERSION } from '../featurize/catalog.js';
import { featureVectorId } from '../featurize/vector.js';
import { FeatureVectorEvent } from '../schemas/feature-vector.js';
import { compileValidator, type Validation } from '../validation.js';
import { WireError } from './bytes.js';
import { decodeContract, frameValuesOf, headerOf } from './contract.js';
import { encodeFrame } from './frame.js';

const validator = compileValidator(FeatureVectorEvent, 'feature vector');

/** The feature service's hot path: a draft straight to bytes, no features record built. */
export function encodeFeatureVectorDraft(draft: FeatureDraft, producedAt: Date = new Date()): Buffer {
  const asOf = JSON.stringify(new Date(draft.asOf).toISOString());
  const header =
    `{"schema":"feature_vector","schemaVersion":1,"eventId":${JSON.stringify(featureVectorId(draft.patientId, draft.triggerEventId))}` +
    `,"patientId":${JSON.stringify(draft.patientId)},"encounterId":${JSON.stringify(draft.encounterId)},"occurredAt":${asOf}` +
    `,"producedAt":${JSON.stringify(producedAt.toISOString())},"source":"feature-service","payload":{"featureSetVersion":${JSON.stringify(FEATURE_SET_VERSION)}` +
    `,"asOf":${asOf},"triggerEventId":${JSON.stringify(draft.triggerEventId)},"context":${JSON.stringify(draft.context)}}}`;
  return encodeFrame('V', header, draft.values);
}

/** A vector message → bytes. Throws unless its features are exactly this catalogue's. */
export function encodeFeatureVector(event: FeatureVectorEvent): Buffer {
  if (event.payload.featureSetVersion !== FEATURE_SET_VERSION) {
    throw new Error(`cannot encode feature set ${event.payload.featureSetVersion}: this catalogue is ${FEATURE_SET_VERSION}`);
  }
  return encodeFrame('V', headerOf(event), frameValuesOf(event.payload));
}

const versionAgrees = (v: FeatureVectorEvent) =>
  v.payload.featureSetVersion === FEATURE_SET_VERSION
    ? null
    : new WireError('feature_set_mismatch', `header says feature set ${JSON.stringify(v.payload.featureSetVersion.slice(0, 40))}, values are ${FEATURE_SET_VERSION}`, 'payload.featureSetVersion');

/** Bytes off ehr.features.v1 (a 'V' frame, or the JSON of before) → a valid vector, or why not. */
export const decodeFeatureVector = (bytes: Uint8Array | string): Validation<FeatureVectorEvent> => decodeContract(bytes, 'V', validator, versionAgrees);
