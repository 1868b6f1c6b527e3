// A feature vector from what a caller has in hand instead of the stream: one patient's raw
// events (through the feature service's own engine) or named feature values. Scoring's
// POST /score uses both, so they live beside the contract they build.
import { buildTrainingRows } from '../batch/training-rows.js';
import type { RawEvent } from '../schemas/events.js';
import type { FeatureVectorEvent } from '../schemas/feature-vector.js';
import type { FeatureDraft } from './engine.js';
import { toFeatureVectorEvent } from './vector.js';

/** One patient's raw events → the vector the feature service would emit after the last of them. */
export async function vectorAfterEvents(events: readonly unknown[], now: Date): Promise<{ vector: FeatureVectorEvent } | { error: string }> {
  let last: FeatureDraft | null = null;
  const patients = new Set<string>();
  const rows = await buildTrainingRows(events as RawEvent[], {
    onVector: (draft) => {
      last = draft;
      patients.add(draft.patientId);
    },
  });
  if (patients.size > 1) return { error: `events of one patient only (got ${patients.size})` };
  const draft = last as FeatureDraft | null;
  if (!draft) {
    const why = Object.entries(rows.stats.rejected).map(([reason, n]) => `${n} ${reason}`).join(', ');
    return { error: `no event could be featurized${why ? ` (${why})` : ''}` };
  }
  return { vector: toFeatureVectorEvent(draft, now) };
}

export interface FeatureSnapshot {
  features: Record<string, number | null>;
  patientId?: string;
  asOf?: string;
  context?: { unit?: string };
}

/** Named feature values (names the caller leaves out count as missing) → a vector message. */
export function vectorFromSnapshot(snapshot: FeatureSnapshot, now: Date): FeatureVectorEvent {
  const at = snapshot.asOf ?? now.toISOString();
  return {
    schema: 'feature_vector',
    schemaVersion: 1,
    eventId: 'http-snapshot',
    patientId: snapshot.patientId ?? 'snapshot',
    encounterId: null,
    occurredAt: at,
    producedAt: now.toISOString(),
    source: 'api',
    payload: {
      featureSetVersion: 'snapshot',
      asOf: at,
      triggerEventId: 'http-snapshot',
      features: snapshot.features,
      context: { unit: snapshot.context?.unit ?? null, department: null, spo2Scale: 1 },
    },
  };
}
