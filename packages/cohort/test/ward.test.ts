import { validateRawEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { HOUR, wardStream, type PatientRecord } from '../src/index.js';

describe('ward stream', () => {
  const start = Date.parse('2026-03-01T12:00:00Z');

  it('keeps the ward full with continuous admissions and discharges, in delivery order', () => {
    const admitted: PatientRecord[] = [];
    const events = [...wardStream({ seed: 5, census: 60, start, hours: 96, onAdmit: (p) => admitted.push(p) })];
    const count = (schema: string) => events.filter((r) => r.event.schema === schema).length;
    expect(count('admission')).toBeGreaterThan(60 + 30);
    expect(count('discharge') + count('transfer')).toBeGreaterThan(30);
    expect(admitted.length).toBe(count('admission'));
    // Census at the end: admitted minus left, near the target.
    const census = count('admission') - count('discharge') - count('transfer');
    expect(census).toBeGreaterThan(45);
    expect(census).toBeLessThan(70);
    let previous = -Infinity;
    for (const r of events) {
      const t = Date.parse(r.availableAt);
      // Patients already on the ward at the start are announced first, with their past admission time.
      if (r.event.schema !== 'admission' || t >= start) {
        expect(t).toBeGreaterThanOrEqual(previous);
        previous = t;
      }
    }
    expect(events.every((r) => validateRawEvent(r.event).ok)).toBe(true);
    expect(Math.max(...events.map((r) => Date.parse(r.event.occurredAt)))).toBeLessThan(start + 96 * HOUR);
  });

  it('reproduces from seed and start; another start gives other ids', () => {
    const first = (s: number) => [...take(wardStream({ seed: 5, census: 20, start: s }), 500)].map((r) => r.event.eventId);
    expect(first(start)).toEqual(first(start));
    expect(first(start + 1000)[0]).not.toEqual(first(start)[0]);
  });
});

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  for (const x of it) {
    yield x;
    if (--n <= 0) return;
  }
}
