// A patient's state as bytes, for the feature service's compacted changelog. Typed
// arrays travel as base64 of their little-endian bytes (exact, and fast to encode).
// Version 2 adds the weights of downsampled points and the deduplication floor; version 1
// (written before) still decodes. Standing result versions (`versions`) are an optional field
// of version 2: a state written before them decodes with none, and an older decoder ignores it. Decoding checks the shape, and that every time is an event
// time (restored-shape.ts): a changelog is input too.
import { createPatientState, offerFirst, seriesFor, SIGNALS, type PatientState } from './patient-state.js';
import { checkRestoredFacts, checkRestoredTimes } from './restored-shape.js';
import { Series } from './series.js';

export const STATE_CODEC_VERSION = 2;

/** Series are plain arrays: copied straight into doubles (a slice, then Float64Array.from's iteration, was twice the work). */
const b64 = (a: ArrayLike<number>, n = a.length) => {
  let f: Float64Array;
  if (a instanceof Float64Array) f = a.subarray(0, n);
  else {
    f = new Float64Array(n);
    for (let i = 0; i < n; i++) f[i] = a[i]!;
  }
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
};
function f64(text: unknown): Float64Array {
  if (typeof text !== 'string') throw new Error('patient state: a series is not a base64 string');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 8 !== 0) throw new Error('patient state: a series is not a whole number of doubles');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
const num = (v: number) => (Number.isFinite(v) ? v : null);

interface Encoded {
  v: number;
  patientId: string;
  meta: Record<string, number>;
  state: Omit<PatientState, 'series' | 'ledger' | 'maxTime' | 'dischargedAt' | 'lastEmittedAt' | 'notes' | 'dedupFloor' | 'stayCounts' | 'firstTime' | 'first' | 'versions'> & {
    /** Absent in states written before stay counts existed. */
    stayCounts?: PatientState['stayCounts'];
    firstTime?: number | null;
    maxTime: number | null;
    dischargedAt: number | null;
    lastEmittedAt: number | null;
    dedupFloor?: number | null;
    /** [signal index, times, values, weights (only once downsampled)] */
    series: ([number, string, string] | [number, string, string, string])[];
    ledger: [string, string];
    notes: PatientState['notes'];
    /** The stay's first values [times, values]; absent in states written before feature set 2.1.0. */
    first?: [string, string];
    /** Standing result versions: [result id hash, version time, event id hash, signal index, event time, value, flags (1 vital, 2 withdrawn)]; absent before they existed. */
    versions?: [number, number, number, number, number, number, number][];
  };
}

export function encodeState(state: PatientState, meta: Record<string, number> = {}): string {
  const series: Encoded['state']['series'] = [];
  state.series.forEach((s, i) => {
    if (!s || s.length === 0) return;
    series.push(s.weights ? [i, b64(s.times), b64(s.values), b64(s.weights)] : [i, b64(s.times), b64(s.values)]);
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
      dedupFloor: num(state.dedupFloor),
      series,
      ledger: [b64(state.ledger.times), b64(state.ledger.values)],
      notes: state.notes.map((n) => ({ ...n, avgWordLength: num(n.avgWordLength) as number })),
      first: [b64(state.first.times), b64(state.first.values)],
      // Only when there are any, so a state without FHIR versions encodes to the same bytes as before.
      versions: state.versions && state.versions.size > 0 ? [...state.versions].map(([key, r]) => [key, r.at, r.hash, r.signal, r.time, r.value, (r.vital ? 1 : 0) | (r.withdrawn ? 2 : 0)]) : undefined,
    },
  };
  return JSON.stringify(encoded);
}

export function decodeState(text: string | Buffer): { state: PatientState; meta: Record<string, number> } {
  const e = JSON.parse(text.toString()) as Encoded;
  if (typeof e !== 'object' || e === null) throw new Error('patient state is not a JSON object');
  if (e.v !== 1 && e.v !== STATE_CODEC_VERSION) throw new Error(`patient state codec version ${String(e.v)} is not supported (expected ${STATE_CODEC_VERSION})`);
  const s = e.state;
  if (typeof e.patientId !== 'string' || typeof s !== 'object' || s === null) throw new Error('patient state: no patientId or state');
  if (!Array.isArray(s.series) || !Array.isArray(s.ledger) || !Array.isArray(s.notes)) throw new Error('patient state: series, ledger and notes must be arrays');
  checkRestoredFacts(s);
  const state = createPatientState(e.patientId);
  state.encounter = s.encounter;
  state.admission = s.admission && { ...s.admission, age: s.admission.age ?? NaN, hospitalAdmitTime: s.admission.hospitalAdmitTime ?? NaN };
  state.location = s.location;
  state.spo2Scale = s.spo2Scale;
  state.maxTime = s.maxTime ?? -Infinity;
  state.dischargedAt = s.dischargedAt ?? NaN;
  state.lastEmittedAt = s.lastEmittedAt ?? NaN;
  state.dedupFloor = s.dedupFloor ?? -Infinity;
  state.stayCounts = { vitals: s.stayCounts?.vitals ?? 0, labs: s.stayCounts?.labs ?? 0 };
  state.firstTime = s.firstTime ?? Infinity;
  for (const entry of s.series) {
    const [i, t, v, w] = entry as unknown[];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= SIGNALS.length) throw new Error(`patient state: unknown signal index ${String(i)}`);
    const times = f64(t);
    const values = f64(v);
    const weights = w === undefined ? null : f64(w);
    if (values.length !== times.length || (weights && weights.length !== times.length)) throw new Error('patient state: series arrays of different lengths');
    checkRestoredTimes(times, `series ${i}`);
    seriesFor(state, i);
    state.series[i] = Series.from(times, values, weights);
  }
  const ledgerTimes = f64(s.ledger[0]);
  const ledgerHashes = f64(s.ledger[1]);
  if (ledgerHashes.length !== ledgerTimes.length) throw new Error('patient state: ledger arrays of different lengths');
  checkRestoredTimes(ledgerTimes, 'the event-id ledger');
  state.ledger = Series.from(ledgerTimes, ledgerHashes);
  state.notes = s.notes.map((n) => ({ ...n, avgWordLength: n.avgWordLength ?? NaN }));
  if (Array.isArray(s.first)) {
    const times = f64(s.first[0]);
    const values = f64(s.first[1]);
    if (values.length !== times.length) throw new Error('patient state: baseline arrays of different lengths');
    checkRestoredTimes(times.filter((t) => !Number.isNaN(t)), 'the stay baseline');
    // Signals appended since the state was written have no baseline yet; a NaN slot is none.
    for (let i = 0; i < Math.min(times.length, SIGNALS.length); i++) if (!Number.isNaN(times[i]!)) offerFirst(state.first, i, times[i]!, values[i]!);
  } else {
    // Written before baselines existed: the oldest value still held is the best baseline there is.
    state.series.forEach((series, i) => {
      if (series && series.length > 0) offerFirst(state.first, i, series.times[0]!, series.values[0]!);
    });
  }
  if (s.versions !== undefined) {
    if (!Array.isArray(s.versions)) throw new Error('patient state: versions must be an array');
    for (const entry of s.versions as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 7 || !entry.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error('patient state: a result version is not seven finite numbers');
      const [key, at, hash, signal, time, value, flags] = entry as number[];
      if (!Number.isInteger(flags) || flags! < 0 || flags! > 3) throw new Error(`patient state: result version flags ${flags} are not 0 to 3`);
      if (!Number.isInteger(signal) || signal! < 0 || signal! >= SIGNALS.length) throw new Error(`patient state: unknown signal index ${signal} in a result version`);
      checkRestoredTimes(Float64Array.of(time!), 'a result version');
      (state.versions ??= new Map()).set(key!, { at: at!, hash: hash!, signal: signal!, time: time!, value: value!, vital: (flags! & 1) === 1, withdrawn: (flags! & 2) === 2 });
    }
  }
  return { state, meta: typeof e.meta === 'object' && e.meta !== null ? e.meta : {} };
}
