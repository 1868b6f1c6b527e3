import { describe, expect, it } from 'vitest';
import {
  createRandom,
  decodeState,
  DEFAULT_ENGINE_OPTIONS,
  encodeState,
  evictable,
  featureIndex,
  featurize,
  firstValue,
  processEvent,
  reducePatient,
  SIGNAL_INDEX,
  type EngineOptions,
  type PatientState,
  type RawEvent,
} from '../src/index.js';
import { admission, discharge, H, lab, note, T0, transfer, vital } from './helpers.js';

const HOURS = 3;
const HR = featureIndex('heart_rate');
const options: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, latenessMs: HOURS * H };

function run(events: RawEvent[], o: EngineOptions = options) {
  const store = new Map<string, PatientState>();
  const outcomes = events.map((e) => processEvent(store, e, o));
  return { store, outcomes, kinds: outcomes.map((x) => x.kind) };
}

function stay(p: string): RawEvent[] {
  const events: RawEvent[] = [admission(p, 0, { gender: 'M', age: 70 })];
  for (let h = 0; h < 40; h += 0.5) {
    events.push(vital(p, 'heart_rate', 80 + (h % 7) * 3, h), vital(p, 'respiratory_rate', 14 + (h % 5), h), vital(p, 'temperature', 36.5 + (h % 3) / 2, h));
    if (h % 6 === 0) events.push(lab(p, 'creatinine', 1 + h / 40, h), note(p, h % 12 === 0 ? 'Denies chest pain.' : 'Febrile, confused.', h));
  }
  events.push(transfer(p, 20, 'MICU', true, 2));
  return events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
}

/** Shuffles events, but never moves one more than `hours` later than a newer event of the same patient. */
function shuffleWithin(events: RawEvent[], hours: number, seed: number): RawEvent[] {
  const rnd = createRandom(seed);
  const keyed = events.map((e) => ({ e, key: Date.parse(e.occurredAt) + rnd.next() * hours * H }));
  return keyed.sort((a, b) => a.key - b.key).map((x) => x.e);
}

describe('the per-patient reducer', () => {
  it('gives the same state and vector whatever the arrival order within the lateness tolerance', () => {
    const events = stay('p1');
    const ordered = run(events).store.get('p1')!;
    for (const seed of [1, 2, 3, 4, 5]) {
      const shuffled = shuffleWithin(events, HOURS * 0.9, seed);
      expect(shuffled).not.toEqual(events);
      const r = run(shuffled);
      expect(r.kinds.every((k) => k === 'featurized')).toBe(true);
      const s = r.store.get('p1')!;
      expect({ ...decodeState(encodeState(s)).state, lastEmittedAt: 0 }).toEqual({ ...decodeState(encodeState(ordered)).state, lastEmittedAt: 0 });
      expect(featurize(s, s.maxTime, 'vital_sign')).toEqual(featurize(ordered, ordered.maxTime, 'vital_sign'));
    }
  });

  it('ignores a duplicate event id, even with other content', () => {
    const e = vital('p2', 'heart_rate', 80, 0, { id: 'same' });
    const r = run([e, vital('p2', 'heart_rate', 120, 0.1, { id: 'same' }), e]);
    expect(r.kinds).toEqual(['featurized', 'duplicate', 'duplicate']);
    expect(r.store.get('p2')!.series[0]!.length).toBe(1);
  });

  it('dead-letters an event later than the tolerance as late_event, and keeps one within it', () => {
    const r = run([vital('p3', 'heart_rate', 80, 10), vital('p3', 'heart_rate', 90, 10 - HOURS + 0.01), vital('p3', 'heart_rate', 99, 10 - HOURS - 0.01)]);
    expect(r.kinds).toEqual(['featurized', 'featurized', 'rejected']);
    expect(r.outcomes[2]).toMatchObject({ reason: 'late_event' });
    expect(r.outcomes[2]!.kind === 'rejected' && r.outcomes[2]!.error).toMatch(/3\.01 h older.*tolerance 3 h/);
  });

  it('rejects cleaning failures before looking at the state', () => {
    const r = run([vital('p4', 'heart_rate', 999, 0)]);
    expect(r.outcomes[0]).toMatchObject({ kind: 'rejected', reason: 'implausible_value' });
    expect(r.store.size).toBe(0);
  });

  it('keeps 24 h plus the tolerance of history, and always the last value of each signal', () => {
    const r = run([lab('p5', 'lactate', 2, 0), vital('p5', 'heart_rate', 70, 0), vital('p5', 'heart_rate', 80, 1), vital('p5', 'heart_rate', 90, 40)]);
    const s = r.store.get('p5')!;
    expect(s.series[0]!.length).toBe(1); // 0 h and 1 h are older than 24 h + 3 h
    expect(s.series.find((x, i) => i > 11 && x)!.length).toBe(1); // the only lactate stays
    expect(s.ledger.length).toBe(1);
  });

  it('a discharge emits the final picture, then closes the stay to a small stub', () => {
    const r = run([admission('p6', 0), vital('p6', 'heart_rate', 80, 1), discharge('p6', 2, { id: 'd' }), vital('p6', 'heart_rate', 99, 1.5)]);
    expect(r.kinds).toEqual(['featurized', 'featurized', 'featurized', 'rejected']);
    const final = r.outcomes[2]!;
    expect(final.kind === 'featurized' && final.vector?.values[HR]).toBe(80);
    expect(r.outcomes[3]).toMatchObject({ reason: 'late_event' });
    const stub = r.store.get('p6')!;
    expect(stub.series.every((x) => x === null)).toBe(true);
    // The discharge itself is still recognised, and a later event opens a new stay.
    const again = run([]);
    again.store.set('p6', stub);
    expect(processEvent(again.store, discharge('p6', 2, { id: 'd' }), options).kind).toBe('duplicate');
    const readmit = processEvent(again.store, vital('p6', 'heart_rate', 100, 30), options);
    expect(readmit.kind === 'featurized' && readmit.vector?.values[HR]).toBe(100);
    expect(again.store.get('p6')!.dischargedAt).toBeNaN();
  });

  it('knows a copy of any event of a closed stay as a duplicate, however long before the discharge it was', () => {
    // A client retrying a batch after a 503 whose first copy had landed, the discharge with it.
    const early = vital('p7', 'heart_rate', 80, 1, { id: 'early' });
    const r = run([admission('p7', 0), early, vital('p7', 'heart_rate', 90, 9), discharge('p7', 10), early, vital('p7', 'heart_rate', 85, 2, { id: 'unknown' })]);
    expect(r.kinds).toEqual(['featurized', 'featurized', 'featurized', 'featurized', 'duplicate', 'rejected']);
    // 9 hours before the discharge, past the 3 h tolerance: an event the stay never had is late.
    expect(r.outcomes[5]).toMatchObject({ reason: 'late_event' });
    expect(r.outcomes[5]!.kind === 'rejected' && r.outcomes[5]!.error).toMatch(/after the stay was closed/);
  });

  it('once a new stay has begun, a copy of the closed stay\'s event is still a duplicate, and its unknown events are late', () => {
    const early = vital('p8', 'heart_rate', 150, 1, { id: 'early' });
    const r = run([admission('p8', 0), early, discharge('p8', 2), vital('p8', 'heart_rate', 70, 3, { id: 'new-stay' }), early, vital('p8', 'heart_rate', 160, 1.5, { id: 'old-stay' })]);
    expect(r.kinds).toEqual(['featurized', 'featurized', 'featurized', 'featurized', 'duplicate', 'rejected']);
    expect(r.outcomes[5]!.kind === 'rejected' && r.outcomes[5]!.error).toMatch(/the discharge that closed this patient's previous stay/);
    // The new stay is its own: one reading, starting after the discharge, its baseline its own.
    const state = r.store.get('p8')!;
    expect(state.stayCounts.vitals).toBe(1);
    expect(state.firstTime).toBe(T0 + 3 * H);
    expect(state.series[SIGNAL_INDEX.heart_rate]!.length).toBe(1);
  });

  it('a reading withdrawn as entered in error leaves the picture, or never enters it if the withdrawal comes first', () => {
    const wrong = vital('p9', 'temperature', 104, 2, { id: 'wrong', unit: '[degF]' });
    const withdrawal = { ...vital('p9', 'temperature', 104, 2, { id: 'withdrawal', unit: '[degF]' }), payload: { kind: 'temperature', value: 104, unit: '[degF]', retracts: 'wrong' } } as RawEvent;
    const before = [admission('p9', 0), vital('p9', 'temperature', 37.1, 1), vital('p9', 'heart_rate', 80, 1)];
    const TEMP = featureIndex('temperature');
    const applied = run([...before, wrong, withdrawal]);
    expect(applied.kinds).toEqual(['featurized', 'featurized', 'featurized', 'featurized', 'featurized']);
    const last = applied.outcomes[4]!;
    // 104 °F was 40 °C: withdrawn, the last temperature is 37.1 again.
    expect(last.kind === 'featurized' && last.vector?.values[TEMP]).toBe(37.1);
    const first = run([...before, withdrawal, wrong]);
    expect(first.kinds.slice(3)).toEqual(['featurized', 'duplicate']);
    for (const r of [applied, first]) {
      const state = r.store.get('p9')!;
      expect(state.series[SIGNAL_INDEX.temperature]!.values).toEqual([37.1]);
      expect(state.stayCounts.vitals).toBe(2);
      expect(state.firstTime).toBe(T0);
    }
    // The same picture either way, ledger included: a copy of either event is a duplicate.
    const picture = (s: PatientState) => ({ series: s.series, ledger: s.ledger, first: s.first, counts: s.stayCounts, encounter: s.encounter?.id, maxTime: s.maxTime });
    expect(picture(applied.store.get('p9')!)).toEqual(picture(first.store.get('p9')!));
    expect(processEvent(applied.store, wrong, options).kind).toBe('duplicate');
  });

  it('versions of one result (preliminary → final → amended): the latest version stands, whatever order they came in', () => {
    const version = (id: string, value: number, at: string, hour = 2): RawEvent => {
      const e = lab('p11', 'potassium', value, hour, { id });
      return { ...e, payload: { ...e.payload, result: { id: 'K-result-1', at } } } as RawEvent;
    };
    const K = featureIndex('potassium');
    const preliminary = version('k-pre', 6.5, '2150-01-01T03:00:00Z');
    const final = version('k-final', 6.1, '2150-01-01T04:00:00Z');
    const amended = version('k-amended', 4.0, '2150-01-01T09:00:00Z');
    const other = lab('p11', 'potassium', 4.4, 1, { id: 'k-earlier' });
    const before = [admission('p11', 0), other];
    const orders = [
      [preliminary, final, amended],
      [preliminary, amended, final],
      [final, preliminary, amended],
      [final, amended, preliminary],
      [amended, preliminary, final],
      [amended, final, preliminary],
    ];
    const runs = orders.map((o) => run([...before, ...o]));
    for (const r of runs) {
      const state = r.store.get('p11')!;
      // The earlier reading of another result stays; of this result only the amended value.
      expect(state.series[SIGNAL_INDEX.potassium]!.values).toEqual([4.4, 4.0]);
      expect(state.stayCounts.labs).toBe(2);
      expect(r.kinds.slice(2)).toEqual(['featurized', 'featurized', 'featurized']);
    }
    const last = runs[0]!.outcomes.at(-1)!;
    expect(last.kind === 'featurized' && last.vector?.values[K]).toBe(4.0);
    // Without the result, both values stood (and which was "last" at one instant was the id hash's choice).
    const unversioned = run([...before, lab('p11', 'potassium', 6.5, 2, { id: 'k-pre' }), lab('p11', 'potassium', 4.0, 2, { id: 'k-amended' })]);
    expect(unversioned.store.get('p11')!.series[SIGNAL_INDEX.potassium]!.values).toHaveLength(3);
    const picture = (s: PatientState) => ({ series: s.series, ledger: s.ledger, first: s.first, counts: s.stayCounts, versions: s.versions });
    for (const r of runs) expect(picture(r.store.get('p11')!)).toEqual(picture(runs[0]!.store.get('p11')!));
    // A copy of any version is a duplicate; the standing version survives the changelog.
    expect(processEvent(runs[5]!.store, preliminary, options).kind).toBe('duplicate');
    const restored = decodeState(encodeState(runs[0]!.store.get('p11')!)).state;
    expect(restored.versions).toEqual(runs[0]!.store.get('p11')!.versions);
    const again = new Map([['p11', restored]]);
    processEvent(again, version('k-corrected', 4.2, '2150-01-01T10:00:00Z'), options);
    expect(again.get('p11')!.series[SIGNAL_INDEX.potassium]!.values).toEqual([4.4, 4.2]);
  });

  it('a withdrawal of a versioned result (entered in error) is its latest version: in all six orders nothing of it is left, and no other reading is taken', () => {
    const version = (id: string, value: number, at: string, withdraws = false): RawEvent => {
      const e = lab('p12', 'potassium', value, 2, { id });
      return { ...e, payload: { ...e.payload, ...(withdraws ? { retracts: 'k-x' } : {}), result: { id: 'K-result-2', at } } } as RawEvent;
    };
    const preliminary = version('k2-pre', 6.8, '2150-01-01T03:00:00Z');
    const corrected = version('k2-cor', 4.1, '2150-01-01T04:00:00Z');
    const withdrawal = version('k2-eie', 4.1, '2150-01-01T05:00:00Z', true);
    const orders = [
      [preliminary, corrected, withdrawal],
      [preliminary, withdrawal, corrected],
      [corrected, preliminary, withdrawal],
      [corrected, withdrawal, preliminary],
      [withdrawal, preliminary, corrected],
      [withdrawal, corrected, preliminary],
    ];
    const pictures = orders.map((o) => {
      const state = run([admission('p12', 0), ...o]).store.get('p12')!;
      expect(state.series[SIGNAL_INDEX.potassium]?.values ?? []).toEqual([]);
      expect(state.stayCounts.labs).toBe(0);
      return { potassium: [...(state.series[SIGNAL_INDEX.potassium]?.values ?? [])], first: firstValue(state, SIGNAL_INDEX.potassium), counts: state.stayCounts, versions: state.versions };
    });
    for (const p of pictures) expect(p).toEqual(pictures[0]);
    // Another result of equal value is not taken when a later version follows a withdrawal.
    const other = lab('p12', 'potassium', 5.0, 2, { id: 'k-other' });
    const v1 = version('k3-1', 5.0, '2150-01-01T03:00:00Z');
    const eie = version('k3-eie', 5.0, '2150-01-01T04:00:00Z', true);
    const v3 = version('k3-3', 4.0, '2150-01-01T05:00:00Z');
    const keyed = (e: RawEvent) => ({ ...e, payload: { ...e.payload, result: { ...(e.payload as { result: { at: string } }).result, id: 'K-result-3' } } }) as RawEvent;
    const state = run([admission('p12', 0), other, keyed(v1), keyed(eie), keyed(v3)]).store.get('p12')!;
    expect(state.series[SIGNAL_INDEX.potassium]!.values).toEqual([4.0, 5.0]);
    expect(state.stayCounts.labs).toBe(2);
    // The withdrawal survives the changelog: a version older than it still cannot come back.
    const restored = new Map([['p12', decodeState(encodeState(run([admission('p12', 0), withdrawal]).store.get('p12')!)).state]]);
    processEvent(restored, corrected, options);
    expect(restored.get('p12')!.series[SIGNAL_INDEX.potassium]?.values ?? []).toEqual([]);
  });

  it('a withdrawn baseline gives way to the earliest reading still held', () => {
    const wrong = vital('p10', 'heart_rate', 190, 1, { id: 'wrong-hr' });
    const withdrawal = { ...vital('p10', 'heart_rate', 190, 1, { id: 'withdraw-hr' }), payload: { kind: 'heart_rate', value: 190, unit: '/min', retracts: 'wrong-hr' } } as RawEvent;
    const r = run([wrong, vital('p10', 'heart_rate', 90, 2), withdrawal]);
    expect(firstValue(r.store.get('p10')!, SIGNAL_INDEX.heart_rate)).toBe(90);
  });

  it('evicts discharged stubs and silent patients once the event-time watermark has passed them', () => {
    const r = run([vital('a', 'heart_rate', 80, 0), discharge('a', 1), vital('b', 'heart_rate', 80, 0), vital('c', 'heart_rate', 80, 100)]);
    const o = { ...options, stubRetentionMs: 48 * H, idleRetentionMs: 72 * H };
    expect([...evictable(r.store, T0 + 48 * H, o)]).toEqual([]);
    expect([...evictable(r.store, T0 + 50 * H, o)]).toEqual(['a']);
    expect([...evictable(r.store, T0 + 73 * H, o)]).toEqual(['a', 'b']);
  });

  it('reducePatient is pure: the input state is never changed', () => {
    const first = reducePatient(undefined, vital('p7', 'heart_rate', 80, 0));
    const before = encodeState(first.state!);
    const second = reducePatient(first.state, vital('p7', 'heart_rate', 90, 1));
    expect(encodeState(first.state!)).toBe(before);
    expect(second.state!.series[0]!.length).toBe(2);
    const dup = reducePatient(second.state, vital('p7', 'heart_rate', 90, 1, { id: 'x' }));
    expect(reducePatient(dup.state, vital('p7', 'heart_rate', 90, 1, { id: 'x' })).outcome.kind).toBe('duplicate');
  });

  it('survives encode/decode exactly (the changelog form)', () => {
    const s = run(stay('p8')).store.get('p8')!;
    const { state, meta } = decodeState(encodeState(s, { partition: 3 }));
    expect(meta).toEqual({ partition: 3 });
    expect(featurize(state, s.maxTime, 'vital_sign')).toEqual(featurize(s, s.maxTime, 'vital_sign'));
    expect(encodeState(state)).toBe(encodeState(s));
  });

  it("keeps the stay's first values, which pruning never drops; a state written before them takes the oldest value it holds", () => {
    const s = run(stay('p9')).store.get('p9')!;
    const hr = SIGNAL_INDEX.heart_rate;
    expect(s.first.values[hr]).toBe(80); // the 0 h value, long pruned from the series
    expect(s.series[hr]!.times[0]).toBeGreaterThan(T0);
    expect(decodeState(encodeState(s)).state.first.values[hr]).toBe(80);
    const old = JSON.parse(encodeState(s)) as { state: { first?: unknown } };
    delete old.state.first;
    const restored = decodeState(JSON.stringify(old)).state;
    expect(restored.first.values[hr]).toBe(s.series[hr]!.values[0]);
    expect(restored.first.times[hr]).toBe(s.series[hr]!.times[0]);
    expect(firstValue(restored, SIGNAL_INDEX.lactate)).toBeNaN();
  });
});

describe('emission policy (event time)', () => {
  const events = (p: string) => [0, 0.01, 0.02, 0.5, 1, 1.01, 3].map((h) => vital(p, 'heart_rate', 80 + h, h));
  const emitted = (o: Partial<EngineOptions>) =>
    run(events('e'), { ...options, ...o }).outcomes.map((x) => (x.kind === 'featurized' && x.vector ? 1 : 0));

  it('debounce 0: every accepted trigger emits', () => expect(emitted({ debounceMs: 0 })).toEqual([1, 1, 1, 1, 1, 1, 1]));
  it('debounce 1 h: merges triggers within an hour of the last vector, the next one carries them', () => {
    expect(emitted({ debounceMs: H })).toEqual([1, 0, 0, 0, 1, 0, 1]);
  });
  it('only the configured event types trigger', () => {
    const r = run([admission('t', 0), vital('t', 'heart_rate', 80, 1), note('t', 'ok', 2)], { ...options, triggers: new Set(['vital_sign']) });
    expect(r.outcomes.map((x) => (x.kind === 'featurized' && x.vector ? 1 : 0))).toEqual([0, 1, 0]);
  });
  it('a discharge emits even inside the debounce window', () => {
    const r = run([vital('d', 'heart_rate', 80, 0), discharge('d', 0.1)], { ...options, debounceMs: H });
    expect(r.outcomes.map((x) => (x.kind === 'featurized' && x.vector ? 1 : 0))).toEqual([1, 1]);
  });
  it('a vector describes the latest event time of the patient, also when triggered by a late event', () => {
    const r = run([vital('l', 'heart_rate', 80, 2), vital('l', 'heart_rate', 70, 1)]);
    const late = r.outcomes[1]!;
    expect(late.kind === 'featurized' && late.vector && [late.vector.asOf, late.vector.values[HR]]).toEqual([T0 + 2 * H, 80]);
  });
});
