// Rows at chosen times (e.g. every hour of an ICU stay) rather than one per event: each
// stay's events go through the feature engine (validation, cleaning, dedup, the reducer),
// and at each sample time the vector is `featurize` of the state after every event up to
// that time — the vector the feature service emits after the last event of that hour.
// Stays are processed one at a time with their own store, so memory holds one stay's
// state plus the rows (Float32: 685k hourly rows of PhysioNet fit in well under 1 GB).
import type { DeadLetterReason } from '../schemas/dead-letter.js';
import type { RawEvent, RawEventSchemaName } from '../schemas/events.js';
import { validateRawEvent } from '../validation.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET_VERSION } from '../featurize/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, processEvent, type EngineOptions } from '../featurize/engine.js';
import { featurize } from '../featurize/featurize.js';
import type { PatientState } from '../state/patient-state.js';

export interface SampledStay {
  patientId: string;
  /** The stay's events in the order the service would see them (event time order). */
  events: readonly RawEvent[];
  /** Epoch ms, ascending: one row per time. */
  sampleTimes: ArrayLike<number>;
}

export interface SampledRows {
  featureSetVersion: string;
  featureNames: readonly string[];
  rows: number;
  cols: number;
  /** Row-major, NaN = missing. */
  data: Float32Array;
  /** Stay index (in the order given) of every row. */
  stayOf: Uint32Array;
  /** Sample time (epoch ms) of every row. */
  times: Float64Array;
  stats: { stays: number; events: number; featurized: number; duplicates: number; rejected: Partial<Record<DeadLetterReason, number>>; emptyRows: number };
}

export interface SampledRowOptions extends Partial<EngineOptions> {
  /** Rows to reserve up front (grows as needed). */
  expectedRows?: number;
  /** Called after each stay with (stays done, rows so far). */
  onStay?: (stays: number, rows: number) => void;
}

export function buildSampledRows(stays: Iterable<SampledStay>, options: SampledRowOptions = {}): SampledRows {
  const { expectedRows, onStay, ...engine } = options;
  const config: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...engine, debounceMs: 0 };
  const cols = FEATURE_COUNT;
  let capacity = Math.max(1024, expectedRows ?? 0);
  let data = new Float32Array(capacity * cols);
  let stayOf = new Uint32Array(capacity);
  let times = new Float64Array(capacity);
  let rows = 0;
  const stats: SampledRows['stats'] = { stays: 0, events: 0, featurized: 0, duplicates: 0, rejected: {}, emptyRows: 0 };
  const grow = () => {
    capacity *= 2;
    const d = new Float32Array(capacity * cols);
    d.set(data);
    data = d;
    const s = new Uint32Array(capacity);
    s.set(stayOf);
    stayOf = s;
    const t = new Float64Array(capacity);
    t.set(times);
    times = t;
  };
  for (const stay of stays) {
    const store = new Map<string, PatientState>();
    let k = 0;
    let trigger: RawEventSchemaName = 'admission';
    const emitUntil = (limit: number) => {
      const state = store.get(stay.patientId);
      for (; k < stay.sampleTimes.length && stay.sampleTimes[k]! < limit; k++) {
        if (rows === capacity) grow();
        const at = stay.sampleTimes[k]!;
        if (state) data.set(featurize(state, at, trigger), rows * cols);
        else {
          data.fill(NaN, rows * cols, (rows + 1) * cols);
          stats.emptyRows++;
        }
        stayOf[rows] = stats.stays;
        times[rows] = at;
        rows++;
      }
    };
    for (const raw of stay.events) {
      stats.events++;
      const t = Date.parse(raw.occurredAt);
      emitUntil(t); // rows strictly before this event's time are complete
      const valid = validateRawEvent(raw);
      if (!valid.ok) {
        stats.rejected[valid.reason] = (stats.rejected[valid.reason] ?? 0) + 1;
        continue;
      }
      const outcome = processEvent(store, valid.value, config);
      if (outcome.kind === 'duplicate') stats.duplicates++;
      else if (outcome.kind === 'rejected') stats.rejected[outcome.reason] = (stats.rejected[outcome.reason] ?? 0) + 1;
      else {
        stats.featurized++;
        if (outcome.event.schema !== 'discharge') trigger = outcome.event.schema;
      }
    }
    emitUntil(Infinity);
    stats.stays++;
    onStay?.(stats.stays, rows);
  }
  return {
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: FEATURE_NAMES,
    rows,
    cols,
    data: data.subarray(0, rows * cols),
    stayOf: stayOf.subarray(0, rows),
    times: times.subarray(0, rows),
    stats,
  };
}
