import { describe, expect, it } from 'vitest';
import { VitalExtractor, WardState, type WardOptions } from '../src/index.js';
import { makeScore } from './fixtures.js';
import { MAX_MODELS_LISTED } from '../src/ward.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');
const options = (over: Partial<WardOptions> = {}): WardOptions => ({
  historyPoints: 5,
  maxPatients: 100,
  patientTtlMs: 60_000,
  alertTtlMs: 30_000,
  vitals: new VitalExtractor(null),
  now: () => T0,
  ...over,
});

describe('ward state', () => {
  it('keeps the latest score per patient with its vitals, unit and top features', () => {
    const ward = new WardState(options());
    ward.apply(makeScore({ patientId: 'p1', t: T0, band: 'low', unit: 'Ward 5', vitals: { heart_rate: 91, temperature: 38.24 } }));
    const p = ward.patient('p1')!;
    expect(p).toMatchObject({ id: 'p1', band: 'low', unit: 'Ward 5', p: 0.05, n2: 2, mode: 'model', model: { name: 'severity-rf', version: '1.0.0' } });
    expect(p.v).toEqual({ hr: 91, rr: 16, spo2: 97, sbp: 120, temp: 38.2 });
    expect(p.top.map((f) => f.feature)).toEqual(['respiratory_rate_last', 'lactate_last', 'spo2_last']);
    expect(p.hist).toEqual([[T0, 0.05, 2, 91, 16, 97, 120, 38.2]]);
  });

  it('says which rule set the band and why (a band NEWS2 raised is never shown as the model\'s)', () => {
    const ward = new WardState(options());
    const score = makeScore({ patientId: 'p1', t: T0, band: 'high', probability: 0.04, news2: 8 });
    score.payload.bandSource = 'news2';
    score.payload.bandReason = 'NEWS2 8 calls for an emergency response: model said low';
    ward.apply(score);
    expect(ward.patient('p1')).toMatchObject({ band: 'high', bs: 'news2', br: 'NEWS2 8 calls for an emergency response: model said low' });
    ward.apply(makeScore({ patientId: 'p2', t: T0, band: 'low' }));
    expect(ward.patient('p2')).toMatchObject({ bs: null, br: null });
  });

  it('shows an unknown unit as null and NEWS2-only scores without a probability', () => {
    const ward = new WardState(options());
    ward.apply(makeScore({ patientId: 'p1', t: T0, band: 'medium', model: null }));
    expect(ward.patient('p1')).toMatchObject({ unit: null, p: null, mode: 'news2_only', model: null });
  });

  it('raises an alert when a patient moves up a band, not when it moves down', () => {
    const ward = new WardState(options());
    ward.apply(makeScore({ patientId: 'p1', t: T0, band: 'low' }));
    ward.drain(10);
    ward.apply(makeScore({ patientId: 'p1', t: T0 + 1000, band: 'high' }));
    const delta = ward.drain(10)!;
    expect(delta.alerts).toEqual([expect.objectContaining({ patientId: 'p1', from: 'low', to: 'high', t: T0 + 1000 })]);
    expect(delta.upserts[0]!.alert).toMatchObject({ from: 'low', to: 'high' });
    ward.apply(makeScore({ patientId: 'p1', t: T0 + 2000, band: 'medium' }));
    expect(ward.drain(10)!.alerts).toEqual([]);
    // A patient's first score is no rise: nothing to compare with.
    ward.apply(makeScore({ patientId: 'p2', t: T0, band: 'high' }));
    expect(ward.drain(10)!.alerts).toEqual([]);
  });

  it('expires alerts after their TTL and tells the page', () => {
    let now = T0;
    const ward = new WardState(options({ now: () => now, alertTtlMs: 10_000 }));
    ward.apply(makeScore({ patientId: 'p1', t: T0, band: 'low' }));
    ward.apply(makeScore({ patientId: 'p1', t: T0 + 1, band: 'medium' }));
    ward.drain(10);
    now = T0 + 11_000;
    ward.apply(makeScore({ patientId: 'p2', t: T0, band: 'low' })); // keeps p2 fresh; p1 is still within its TTL
    ward.sweep(now);
    expect(ward.activeAlerts).toBe(0);
    const delta = ward.drain(10)!;
    expect(delta.upserts.find((u) => u.id === 'p1')!.alert).toBeNull();
  });

  it('coalesces several scores of one patient into one upsert carrying the new points', () => {
    const ward = new WardState(options());
    for (let i = 0; i < 3; i++) ward.apply(makeScore({ patientId: 'p1', t: T0 + i * 1000, band: 'low', news2: i }));
    const delta = ward.drain(10)!;
    expect(delta.upserts).toHaveLength(1);
    expect(delta.upserts[0]!.add!.map((pt) => pt[2])).toEqual([0, 1, 2]);
    expect(ward.drain(10)).toBeNull();
  });

  it('bounds the history and keeps it in event-time order when scores arrive late', () => {
    const ward = new WardState(options({ historyPoints: 3 }));
    for (const s of [0, 1, 2, 3]) ward.apply(makeScore({ patientId: 'p1', t: T0 + s * 1000, band: 'low', news2: s }));
    expect(ward.patient('p1')!.hist.map((pt) => pt[2])).toEqual([1, 2, 3]);
    ward.drain(10);
    // Late: joins the series in order, resends it whole, and does not replace the latest score.
    expect(ward.apply(makeScore({ patientId: 'p1', t: T0 + 2500, band: 'high', news2: 9 }))).toBe('late');
    expect(ward.patient('p1')!.hist.map((pt) => pt[2])).toEqual([2, 9, 3]);
    expect(ward.patient('p1')).toMatchObject({ band: 'low', n2: 3 });
    const delta = ward.drain(10)!;
    expect(delta.upserts[0]!.hist!.map((pt) => pt[2])).toEqual([2, 9, 3]);
    // The same score again (a redelivery) does not duplicate the point.
    ward.apply(makeScore({ patientId: 'p1', t: T0 + 3000, band: 'low', news2: 3 }));
    expect(ward.patient('p1')!.hist).toHaveLength(3);
  });

  it('evicts idle patients after the TTL and the longest idle past the cap', () => {
    let now = T0;
    const ward = new WardState(options({ now: () => now, maxPatients: 2, patientTtlMs: 10_000 }));
    ward.apply(makeScore({ patientId: 'a', t: T0, band: 'low' }));
    now += 1000;
    ward.apply(makeScore({ patientId: 'b', t: T0, band: 'low' }));
    now += 1000;
    ward.apply(makeScore({ patientId: 'a', t: T0 + 1, band: 'low' })); // a is fresher than b now
    ward.apply(makeScore({ patientId: 'c', t: T0, band: 'low' }));
    expect([ward.patient('a'), ward.patient('b'), ward.patient('c')].map(Boolean)).toEqual([true, false, true]);
    expect(ward.drain(10)!.removed).toEqual(['b']);
    now += 10_500;
    ward.apply(makeScore({ patientId: 'c', t: T0 + 1, band: 'low' }));
    expect(ward.sweep(now)).toBe(1);
    expect(ward.size).toBe(1);
    expect(ward.drain(10)!.removed).toEqual(['a']);
  });

  it('lists at most MAX_MODELS_LISTED models, dropping the least recently scored: scores each naming another version cannot grow the list', () => {
    const ward = new WardState(options());
    for (let i = 0; i < 100; i++) ward.apply(makeScore({ patientId: `p${i}`, t: T0 + i * 1000, band: 'low', model: { name: 'm', version: `v${i}` } }));
    const listed = ward.snapshot(5).models;
    expect(listed).toHaveLength(MAX_MODELS_LISTED);
    expect(listed.map((m) => m.version)).toEqual(Array.from({ length: MAX_MODELS_LISTED }, (_, i) => `v${100 - MAX_MODELS_LISTED + i}`));
  });

  it('lists the models it has seen, and NEWS2-only scoring', () => {
    const ward = new WardState(options());
    ward.apply(makeScore({ patientId: 'a', t: T0, band: 'low' }));
    ward.apply(makeScore({ patientId: 'b', t: T0, band: 'low', model: null }));
    expect(ward.snapshot(5).models.map((m) => [m.mode, m.name, m.version, m.scores])).toEqual([
      ['model', 'severity-rf', '1.0.0', 1],
      ['news2_only', null, null, 1],
    ]);
  });
});
