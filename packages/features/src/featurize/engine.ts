// One event through the whole feature pipeline: clean → deduplicate / judge lateness →
// reduce into the patient's state → decide whether to emit (trigger and debounce, in
// event time) → featurize. The feature service and the batch API both call this, so
// training rows and served vectors cannot drift.
import { cleanEvent } from '../cleaning/clean.js';
import type { Correction } from '../cleaning/units.js';
import type { DeadLetterReason, ValidationIssue } from '../schemas/dead-letter.js';
import type { RawEvent, RawEventSchemaName } from '../schemas/events.js';
import {
  applyEvent,
  closeStay,
  clonePatientState,
  createPatientState,
  HOUR_MS,
  judge,
  reopen,
  type PatientState,
  type StateOptions,
} from '../state/patient-state.js';
import { featurize } from './featurize.js';

export const RAW_EVENT_SCHEMA_NAMES: readonly RawEventSchemaName[] = ['vital_sign', 'lab_result', 'clinical_note', 'admission', 'transfer', 'discharge'];

export interface EmissionPolicy {
  /** Schemas of accepted events that may emit a vector. */
  triggers: ReadonlySet<RawEventSchemaName>;
  /**
   * Event-time milliseconds after an emission during which further triggers are merged
   * into the state without a vector of their own (the next vector includes them). 0 means
   * every trigger emits. A discharge always emits (the stay's final picture).
   */
  debounceMs: number;
}

export interface EngineOptions extends StateOptions, EmissionPolicy {
  /** A discharged patient's stub is dropped once the event-time watermark is this far past the discharge. */
  stubRetentionMs: number;
  /** A patient with no event for this long (against the watermark) is dropped, discharge or not. */
  idleRetentionMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  latenessMs: 6 * HOUR_MS,
  triggers: new Set(RAW_EVENT_SCHEMA_NAMES),
  debounceMs: 0,
  stubRetentionMs: 48 * HOUR_MS,
  idleRetentionMs: 7 * 24 * HOUR_MS,
};

export interface VectorContext {
  unit: string | null;
  department: string | null;
  spo2Scale: 1 | 2;
}

/** A vector before it is wrapped in its message (the batch API keeps this form). */
export interface FeatureDraft {
  patientId: string;
  encounterId: string | null;
  /** Event time the vector describes (epoch ms): the patient's latest event time. */
  asOf: number;
  triggerEventId: string;
  values: Float64Array;
  context: VectorContext;
}

export type EngineOutcome =
  /** Accepted into the state ("featurized"); `vector` is null when the policy merged it. */
  | { kind: 'featurized'; event: RawEvent; correction: Correction | null; vector: FeatureDraft | null }
  | { kind: 'duplicate'; event: RawEvent }
  | { kind: 'rejected'; event: RawEvent; reason: DeadLetterReason; error: string; issues: ValidationIssue[] };

/** Where patient states live: a Map, or an overlay that clones on first touch. */
export interface PatientStore {
  get(patientId: string): PatientState | undefined;
  set(patientId: string, state: PatientState): void;
}

/**
 * @param vectorInto where an emitted vector's values are written (FEATURE_COUNT long): a
 *   caller that encodes each vector before the next event passes one array for all of them,
 *   instead of a new 1.7 KB ArrayBuffer per event (the feature service). Default: a new one.
 */
export function processEvent(store: PatientStore, raw: RawEvent, options: EngineOptions, vectorInto?: Float64Array): EngineOutcome {
  const cleaned = cleanEvent(raw);
  if (!cleaned.ok) return { kind: 'rejected', event: raw, reason: cleaned.reason, error: cleaned.error, issues: cleaned.issues };
  const event = cleaned.event;
  let state = store.get(event.patientId);
  const verdict = judge(state, event, options);
  if (verdict.kind === 'duplicate') return { kind: 'duplicate', event: raw };
  if (verdict.kind === 'late') {
    return { kind: 'rejected', event: raw, reason: 'late_event', error: verdict.error, issues: [{ path: 'occurredAt', message: verdict.error }] };
  }
  if (!state || verdict.newStay) {
    state = state ? reopen(state) : createPatientState(event.patientId);
    store.set(event.patientId, state);
  }
  applyEvent(state, event, verdict.time, verdict.hash, options);
  const vector = shouldEmit(state, event.schema, options) ? draft(state, event, vectorInto) : null;
  if (event.schema === 'discharge') closeStay(state, verdict.time);
  return { kind: 'featurized', event, correction: cleaned.correction, vector };
}

function shouldEmit(state: PatientState, schema: RawEventSchemaName, policy: EmissionPolicy): boolean {
  if (!policy.triggers.has(schema)) return false;
  if (schema === 'discharge' || Number.isNaN(state.lastEmittedAt)) return true;
  return state.maxTime >= state.lastEmittedAt + policy.debounceMs;
}

function draft(state: PatientState, trigger: RawEvent, into?: Float64Array): FeatureDraft {
  const asOf = state.maxTime;
  state.lastEmittedAt = asOf;
  return {
    patientId: state.patientId,
    encounterId: state.encounter?.id ?? null,
    asOf,
    triggerEventId: trigger.eventId,
    values: featurize(state, asOf, trigger.schema, into),
    context: {
      unit: state.location?.unitName ?? null,
      department: state.admission?.departmentName ?? null,
      spo2Scale: state.spo2Scale?.scale ?? 1,
    },
  };
}

/**
 * Patients whose state can go (bounded memory): discharged ones long enough ago, and
 * ones silent for too long, judged against the event-time watermark.
 */
export function* evictable(states: Iterable<[string, PatientState]>, watermark: number, options: EngineOptions): Generator<string> {
  for (const [id, s] of states) {
    const closedLongAgo = !Number.isNaN(s.dischargedAt) && s.dischargedAt + options.stubRetentionMs < watermark;
    if (closedLongAgo || s.maxTime + options.idleRetentionMs < watermark) yield id;
  }
}

/**
 * The reducer in its pure form: (state, event) → (next state, outcome). The given state
 * is never modified (the next one is a copy when the event changes anything).
 */
export function reducePatient(
  state: PatientState | undefined,
  event: RawEvent,
  options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
): { state: PatientState | undefined; outcome: EngineOutcome } {
  let next: PatientState | undefined;
  const store: PatientStore = {
    get: () => (next ??= state && clonePatientState(state)),
    set: (_id, s) => {
      next = s;
    },
  };
  const outcome = processEvent(store, event, options);
  return { state: outcome.kind === 'featurized' ? next : state, outcome };
}
