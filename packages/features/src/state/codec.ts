// A patient's state as bytes, for the feature service's compacted changelog. Typed
// arrays travel as base64 of their little-endian bytes (exact, and fast to encode).
import { createPatientState, SIGNALS, type PatientState } from './patient-state.js';
import { Series } from './series.js';

export const STATE_CODEC_VERSION = 1;

const b64 = (a: Float64Array, n: number) => Buffer.from(a.buffer, a.byteOffset, n * 8).toString('base64');
function f64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
const num = (v: number) => (Number.isFinite(v) ? v : null);

interface Encoded {
  v: number;
  patientId: string;
  meta: Record<string, number>;
  state: Omit<PatientState, 'series' | 'ledger' | 'maxTime' | 'dischargedAt' | 'lastEmittedAt' | 'notes' | 'stayCounts' | 'firstTime' | 'first'> & {
    /** Absent in states written before stay counts existed. */
    stayCounts?: PatientState['stayCounts'];
    firstTime?: number | null;
    maxTime: number | null;
    dischargedAt: number | null;
    lastEmittedAt: number | null;
    series: [number, string, string][];
    ledger: [string, string];
    notes: PatientState['notes'];
    /** The stay's first values [times, values]; absent in states written before feature set 2.1.0. */
    first?: [string, string];
  };
}

export function encodeState(state: PatientState, meta: Record<string, number> = {}): string {
  const series: [number, string, string][] = [];
  state.series.forEach((s, i) => {
    if (s && s.length > 0) series.push([i, b64(s.times, s.length), b64(s.values, s.length)]);
  });
  const encoded: Encoded = {
    v: STATE_CODEC_VERSION,
    patientId: state.patientId,
    meta,
    state: {
      ...state,
      maxTime: num(state.maxTime),
      dischargedAt: num(state.dischargedAt),
      lastEmittedAt: num(state.lastEmittedAt),
      firstTime: num(state.firstTime),
      series,
      ledger: [b64(state.ledger.times, state.ledger.length), b64(state.ledger.values, state.ledger.length)],
      notes: state.notes.map((n) => ({ ...n, avgWordLength: num(n.avgWordLength) as number })),
      first: [b64(state.first.times, SIGNALS.length), b64(state.first.values, SIGNALS.length)],
    },
  };
  return JSON.stringify(encoded);
}

export function decodeState(text: string | Buffer): { state: PatientState; meta: Record<string, number> } {
  const e = JSON.parse(text.toString()) as Encoded;
  if (e.v !== STATE_CODEC_VERSION) throw new Error(`patient state codec version ${e.v} is not supported (expected ${STATE_CODEC_VERSION})`);
  const s = e.state;
  const state = createPatientState(e.patientId);
  state.encounter = s.encounter;
  state.admission = s.admission && { ...s.admission, age: s.admission.age ?? NaN, hospitalAdmitTime: s.admission.hospitalAdmitTime ?? NaN };
  state.location = s.location;
  state.spo2Scale = s.spo2Scale;
  state.maxTime = s.maxTime ?? -Infinity;
  state.dischargedAt = s.dischargedAt ?? NaN;
  state.lastEmittedAt = s.lastEmittedAt ?? NaN;
  state.stayCounts = { vitals: s.stayCounts?.vitals ?? 0, labs: s.stayCounts?.labs ?? 0 };
  state.firstTime = s.firstTime ?? Infinity;
  for (const [i, t, v] of s.series) {
    if (i < 0 || i >= SIGNALS.length) throw new Error(`patient state: unknown signal index ${i}`);
    state.series[i] = Series.from(f64(t), f64(v));
  }
  state.ledger = Series.from(f64(s.ledger[0]), f64(s.ledger[1]));
  state.notes = s.notes.map((n) => ({ ...n, avgWordLength: n.avgWordLength ?? NaN }));
  if (s.first) {
    const times = f64(s.first[0]);
    const values = f64(s.first[1]);
    // Signals appended since the state was written have no baseline yet.
    state.first.times.set(times.subarray(0, SIGNALS.length));
    state.first.values.set(values.subarray(0, SIGNALS.length));
  } else {
    // Written before baselines existed: the oldest value still held is the best baseline there is.
    state.series.forEach((series, i) => {
      if (series && series.length > 0) {
        state.first.times[i] = series.times[0]!;
        state.first.values[i] = series.values[0]!;
      }
    });
  }
  return { state, meta: e.meta };
}
