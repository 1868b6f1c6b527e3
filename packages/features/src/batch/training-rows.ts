// Training rows from raw events (read from the cohort CSVs, MEDS, or anything else) by
// the very code the feature service runs: validation, cleaning, the reducer, the
// trigger/debounce policy and featurize. Labels are joined later on (patientId, asOf).
import type { DeadLetterReason } from '../schemas/dead-letter.js';
import type { RawEvent } from '../schemas/events.js';
import { validateRawEvent } from '../validation.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET_VERSION } from '../featurize/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, evictable, processEvent, type EngineOptions, type FeatureDraft } from '../featurize/engine.js';
import { featureVectorId } from '../featurize/vector.js';
import type { PatientState } from '../state/patient-state.js';

export interface TrainingRowMeta {
  patientId: string;
  encounterId: string | null;
  /** RFC 3339 (UTC) event time the row describes. */
  asOf: string;
  triggerEventId: string;
  /** The id the feature service gives the same vector. */
  vectorId: string;
}

export interface TrainingRowStats {
  events: number;
  featurized: number;
  vectors: number;
  duplicates: number;
  rejected: Partial<Record<DeadLetterReason, number>>;
  /** Patients still held at the end (the rest were evicted as the service would). */
  patientsHeld: number;
}

export interface TrainingRows {
  featureSetVersion: string;
  featureNames: readonly string[];
  /** Row-major, NaN = missing (the shape @ehr/model's DenseMatrix takes). */
  matrix: { rows: number; cols: number; data: Float64Array };
  meta: TrainingRowMeta[];
  stats: TrainingRowStats;
}

export interface TrainingRowOptions extends Partial<EngineOptions> {
  /** Called for every vector as it is made (e.g. to stream rows out instead of holding them). */
  onVector?: (draft: FeatureDraft) => void;
}

const SWEEP_EVERY = 4096;

/**
 * Feeds the events, in the order given (per patient, the order the service would see
 * them on its partition), through the feature engine and collects one row per vector.
 */
export async function buildTrainingRows(events: Iterable<RawEvent> | AsyncIterable<RawEvent>, options: TrainingRowOptions = {}): Promise<TrainingRows> {
  const { onVector, ...engine } = options;
  const config: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...engine };
  const states = new Map<string, PatientState>();
  let data = new Float64Array(FEATURE_COUNT * 1024);
  const meta: TrainingRowMeta[] = [];
  const stats: TrainingRowStats = { events: 0, featurized: 0, vectors: 0, duplicates: 0, rejected: {}, patientsHeld: 0 };
  let watermark = -Infinity;

  for await (const raw of events) {
    stats.events++;
    const valid = validateRawEvent(raw);
    if (!valid.ok) {
      stats.rejected[valid.reason] = (stats.rejected[valid.reason] ?? 0) + 1;
      continue;
    }
    const outcome = processEvent(states, valid.value, config);
    if (outcome.kind === 'duplicate') stats.duplicates++;
    else if (outcome.kind === 'rejected') stats.rejected[outcome.reason] = (stats.rejected[outcome.reason] ?? 0) + 1;
    else {
      stats.featurized++;
      watermark = Math.max(watermark, Date.parse(outcome.event.occurredAt));
      const v = outcome.vector;
      if (v) {
        if ((meta.length + 1) * FEATURE_COUNT > data.length) {
          const grown = new Float64Array(data.length * 2);
          grown.set(data);
          data = grown;
        }
        data.set(v.values, meta.length * FEATURE_COUNT);
        meta.push({ patientId: v.patientId, encounterId: v.encounterId, asOf: new Date(v.asOf).toISOString(), triggerEventId: v.triggerEventId, vectorId: featureVectorId(v.patientId, v.triggerEventId) });
        stats.vectors++;
        onVector?.(v);
      }
    }
    if (stats.events % SWEEP_EVERY === 0) for (const id of [...evictable(states, watermark, config)]) states.delete(id);
  }
  stats.patientsHeld = states.size;
  return {
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: FEATURE_NAMES,
    matrix: { rows: meta.length, cols: FEATURE_COUNT, data: data.subarray(0, meta.length * FEATURE_COUNT) },
    meta,
    stats,
  };
}
