// A patient's state is bounded whatever the feed: a dense signal keeps its latest points
// and the rest per minute (so windows stay correct to the minute), deduplication is O(1)
// and remembers a bounded number of ids, and the notes are merged per minute past the cap.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_OPTIONS,
  decodeState,
  encodeState,
  featureIndex,
  featurize,
  processEvent,
  SIGNAL_INDEX,
  type EngineOptions,
  type PatientState,
  type RawEvent,
} from '../src/index.js';
import { H, note, T0, vital } from './helpers.js';

const MIN = 60_000;
// No vector per event (thousands of them would only slow the test): one at the end.
const options: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, latenessMs: 6 * H, triggers: new Set() };

function feed(events: Iterable<RawEvent>, o: EngineOptions = options) {
  const store = new Map<string, PatientState>();
  const kinds = new Map<string, number>();
  let patient = '';
  for (const e of events) {
    const outcome = processEvent(store, e, o);
    kinds.set(outcome.kind, (kinds.get(outcome.kind) ?? 0) + 1);
    patient = e.patientId;
  }
  const state = store.get(patient)!;
  return { store, kinds, last: featurize(state, state.maxTime, 'vital_sign') };
}

/** Heart rate every `stepMs` for `hours`, a value that wanders (so extremes fall anywhere). */
function* denseHeartRate(patient: string, hours: number, stepMs: number): Generator<RawEvent & { t: number; v: number }> {
  for (let t = 0, i = 0; t < hours * H; t += stepMs, i++) {
    const v = 80 + 25 * Math.sin(i / 97) + 10 * Math.sin(i / 13.7) + (i % 11);
    const e = vital(patient, 'heart_rate', Math.round(v * 10) / 10, t / H, { id: `${patient}-hr-${i}` });
    yield Object.assign(e, { t: T0 + t, v: Math.round(v * 10) / 10 });
  }
}

describe('bounded per-patient state', () => {
  it('a 1-every-5-s signal over 30 h keeps the cap, and its windows are correct to the minute', () => {
    const raw = [...denseHeartRate('dense', 30, 5_000)];
    const { store, last, kinds } = feed(raw);
    expect(kinds.get('featurized')).toBe(raw.length);
    const series = store.get('dense')!.series[SIGNAL_INDEX.heart_rate]!;
    expect(raw.length).toBeGreaterThan(20_000);
    expect(series.length).toBeLessThanOrEqual(8192);
    const at = raw[raw.length - 1]!.t;
    const within = (fromMs: number) => raw.filter((r) => r.t >= fromMs && r.t <= at);
    for (const [window, ms] of [['1h', H], ['6h', 6 * H], ['24h', 24 * H]] as const) {
      // The exact answer over the window started a minute earlier and a minute later.
      const wide = within(at - ms - MIN).map((r) => r.v);
      const narrow = within(at - ms + MIN).map((r) => r.v);
      const min = last[featureIndex(`heart_rate_min_${window}`)]!;
      const max = last[featureIndex(`heart_rate_max_${window}`)]!;
      expect(min, `min ${window}`).toBeGreaterThanOrEqual(Math.min(...wide));
      expect(min, `min ${window}`).toBeLessThanOrEqual(Math.min(...narrow));
      expect(max, `max ${window}`).toBeLessThanOrEqual(Math.max(...wide));
      expect(max, `max ${window}`).toBeGreaterThanOrEqual(Math.max(...narrow));
    }
    const count = last[featureIndex('heart_rate_count_24h')]!;
    expect(count).toBeGreaterThanOrEqual(within(at - 24 * H + MIN).length);
    expect(count).toBeLessThanOrEqual(within(at - 24 * H - MIN).length);
    // The latest value and its age are exact: recent points are never downsampled.
    expect(last[featureIndex('heart_rate')]).toBe(raw[raw.length - 1]!.v);
    expect(last[featureIndex('heart_rate_hours_since')]).toBe(0);
    // The same state, however it was reached: downsampling and a changelog round trip commute.
    const again = decodeState(encodeState(store.get('dense')!)).state;
    expect(encodeState(again)).toBe(encodeState(store.get('dense')!));
  });

  it('below the cap nothing is downsampled (hourly vitals are kept whole)', () => {
    const raw = [...denseHeartRate('sparse', 30, 60 * MIN)];
    const { store } = feed(raw);
    const series = store.get('sparse')!.series[SIGNAL_INDEX.heart_rate]!;
    expect(series.weights).toBeNull();
  });

  it('deduplicates in O(1) past a few dozen ids, and forgets the oldest past the cap', () => {
    const o = { ...options, maxDedupIds: 1000 };
    const raw = [...denseHeartRate('ids', 2, 2_000)];
    expect(raw.length).toBe(3600);
    const { store, kinds } = feed([...raw, raw[3500]!, raw[2700]!], o);
    expect(kinds.get('duplicate')).toBe(2);
    const state = store.get('ids')!;
    expect(state.ledger.length).toBe(1000);
    // An id older than the oldest remembered cannot be told from a duplicate: late, with the reason.
    const tooOld = processEvent(store, raw[100]!, o);
    expect(tooOld).toMatchObject({ kind: 'rejected', reason: 'late_event', error: expect.stringContaining('deduplication') });
    // The floor survives the changelog.
    expect(decodeState(encodeState(state)).state.dedupFloor).toBe(state.dedupFloor);
  });

  it('merges notes past the cap per minute, keeping the count and every term seen', () => {
    const o = { ...options, maxPointsPerSignal: 256 };
    const events = Array.from({ length: 2000 }, (_, i) => note('notes', i % 500 === 0 ? 'Febrile and confused.' : 'Settled.', (i * 10_000) / H, { id: `n-${i}` }));
    const { store, last } = feed(events, o);
    expect(store.get('notes')!.notes.length).toBeLessThanOrEqual(256);
    expect(last[featureIndex('notes_count_24h')]).toBe(2000);
    expect(last[featureIndex('note_risk_terms')]).toBeGreaterThan(0);
  });

  it('readings of one instant (distinct ids) are held to the cap too: the last value and the count stay exact', () => {
    const o = { ...options, maxPointsPerSignal: 256 };
    const values = Array.from({ length: 5000 }, (_, i) => 60 + ((i * 37) % 90));
    const { store, last } = feed(values.map((v, i) => vital('instant', 'heart_rate', v, 1, { id: `i-${i}` })), o);
    const series = store.get('instant')!.series[SIGNAL_INDEX.heart_rate]!;
    expect(series.length).toBeLessThanOrEqual(256);
    // Sorted by (time, value): the last of one instant is its highest.
    expect(last[featureIndex('heart_rate')]).toBe(Math.max(...values));
    expect(last[featureIndex('heart_rate_max_1h')]).toBe(Math.max(...values));
    expect(last[featureIndex('heart_rate_min_1h')]).toBe(Math.min(...values));
    expect(last[featureIndex('heart_rate_count_24h')]).toBe(5000);
    const notes = Array.from({ length: 2000 }, (_, i) => note('instant-notes', i === 7 ? 'Febrile and confused.' : 'Settled.', 1, { id: `n-${i}` }));
    const fed = feed(notes, o);
    expect(fed.store.get('instant-notes')!.notes.length).toBeLessThanOrEqual(256);
    expect(fed.last[featureIndex('notes_count_24h')]).toBe(2000);
    expect(fed.last[featureIndex('note_risk_terms')]).toBeGreaterThan(0);
  });

  it('decodes the version-1 form written before, and refuses malformed states', () => {
    const { store } = feed([...denseHeartRate('old', 1, 10 * MIN)]);
    const encoded = JSON.parse(encodeState(store.get('old')!)) as { v: number; state: Record<string, unknown> };
    delete encoded.state.dedupFloor;
    const v1 = JSON.stringify({ ...encoded, v: 1 });
    expect(decodeState(v1).state.series[SIGNAL_INDEX.heart_rate]!.length).toBe(6);
    const bad = (mutate: (e: { v: number; state: Record<string, unknown> }) => void) => {
      const copy = JSON.parse(JSON.stringify(encoded)) as { v: number; state: Record<string, unknown> };
      mutate(copy);
      return () => decodeState(JSON.stringify(copy));
    };
    expect(bad((e) => (e.state.series = [[99, '', '']]))).toThrow(/signal index/);
    expect(bad((e) => (e.state.series = [[0, 'AAAA', '']]))).toThrow(/doubles/);
    expect(bad((e) => (e.state.series = [[0, 7, 7]]))).toThrow(/base64/);
    expect(bad((e) => (e.state.ledger = 'x'))).toThrow(/arrays/);
    expect(bad((e) => (e.v = 9))).toThrow(/version/);
    expect(() => decodeState('null')).toThrow(/object/);
  });
});
