import { validateRawEvent } from '@ehr/features';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCohort, HOUR, labelAt, type Cohort, type PatientRecord } from '../src/index.js';
import { byPatient, mean, median, news2Timeline } from './helpers.js';

let cohort: Cohort;
let patients: Map<string, PatientRecord>;
let streams: ReturnType<typeof byPatient>;

beforeAll(() => {
  cohort = generateCohort({ seed: 7, patients: 240, hours: 120, artefactRate: 0.02 });
  patients = new Map(cohort.patients.map((p) => [p.patientId, p]));
  streams = byPatient(cohort.events);
});

const clean = (id: string) => (streams.get(id) ?? []).filter((r) => r.artefact === null).map((r) => r.event);

describe('synthetic cohort', () => {
  it('emits only schema-valid events, in delivery order, with stable ids', () => {
    let previous = -Infinity;
    const problems: string[] = [];
    for (const r of cohort.events) {
      const v = validateRawEvent(r.event);
      if (!v.ok) problems.push(v.error);
      const t = Date.parse(r.availableAt);
      if (t < previous) problems.push(`${r.event.eventId} delivered before the previous event`);
      previous = t;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    const again = generateCohort({ seed: 7, patients: 240, hours: 120, artefactRate: 0.02 });
    expect(again.events.map((r) => r.event.eventId)).toEqual(cohort.events.map((r) => r.event.eventId));
    const other = generateCohort({ seed: 8, patients: 20, hours: 24 });
    expect(other.events[0]!.event.eventId).not.toBe(cohort.events[0]!.event.eventId);
  });

  it('has demographics, units, departments and every course, with deaths and ICU transfers', () => {
    const courses = new Set(cohort.patients.map((p) => p.course));
    expect([...courses].sort()).toEqual(['bleeding', 'respiratory', 'sepsis', 'stable']);
    const outcomes = new Set(cohort.patients.map((p) => p.outcome));
    for (const o of ['discharged', 'died', 'icu_transfer']) expect(outcomes).toContain(o);
    expect(new Set(cohort.patients.map((p) => p.gender))).toEqual(new Set(['F', 'M']));
    expect(new Set(cohort.patients.map((p) => p.department)).size).toBeGreaterThanOrEqual(4);
    // Some deteriorations recover without reaching the event; some reach it and recover.
    expect(cohort.patients.some((p) => p.course !== 'stable' && p.eventTime === null)).toBe(true);
    expect(cohort.patients.some((p) => p.eventTime !== null && p.outcome === 'discharged')).toBe(true);
  });

  it('changing the artefact rate leaves the clean physiology untouched', () => {
    const none = generateCohort({ seed: 7, patients: 30, hours: 48, artefactRate: 0 });
    const some = generateCohort({ seed: 7, patients: 30, hours: 48, artefactRate: 0.05 });
    expect(none.events.every((r) => r.artefact === null)).toBe(true);
    const cleanIds = new Set(some.events.filter((r) => r.artefact === null).map((r) => r.event.eventId));
    const kept = none.events.filter((r) => cleanIds.has(r.event.eventId));
    expect(kept.length).toBeGreaterThan(none.events.length * 0.9);
    const someById = new Map(some.events.filter((r) => r.artefact === null).map((r) => [r.event.eventId, r.event]));
    for (const r of kept) expect(someById.get(r.event.eventId)).toEqual(r.event);
  });
});

describe('cadence and missingness', () => {
  const intervals = (kind: string, filter: (p: PatientRecord) => boolean, before?: (p: PatientRecord) => number) => {
    const out: number[] = [];
    for (const [id, p] of patients) {
      if (!filter(p)) continue;
      const limit = before?.(p) ?? Infinity;
      const times = clean(id)
        .filter((e) => e.schema === 'vital_sign' && e.payload.kind === kind && Date.parse(e.occurredAt) < limit)
        .map((e) => Date.parse(e.occurredAt));
      for (let i = 1; i < times.length; i++) out.push((times[i]! - times[i - 1]!) / HOUR);
    }
    return out;
  };
  const stable = (p: PatientRecord) => p.course === 'stable';

  it('charts vitals about hourly, temperature and GCS about 4-hourly, more often as patients worsen', () => {
    expect(median(intervals('heart_rate', stable))).toBeGreaterThan(0.85);
    expect(median(intervals('heart_rate', stable))).toBeLessThan(1.2);
    expect(median(intervals('temperature', stable))).toBeGreaterThan(3.3);
    expect(median(intervals('temperature', stable))).toBeLessThan(4.7);
    expect(median(intervals('gcs', stable))).toBeGreaterThan(3.3);
    // In the six hours before the deterioration event, observations are at least twice as frequent.
    const sick = intervals('heart_rate', (p) => p.eventTime !== null, (p) => Date.parse(p.eventTime!)).filter((x) => x > 0);
    const lastHours: number[] = [];
    for (const [id, p] of patients) {
      if (!p.eventTime) continue;
      const ev = Date.parse(p.eventTime);
      const hr = clean(id).filter((e) => e.schema === 'vital_sign' && e.payload.kind === 'heart_rate' && Date.parse(e.occurredAt) < ev && Date.parse(e.occurredAt) >= ev - 3 * HOUR);
      lastHours.push(hr.length / 3);
    }
    expect(sick.length).toBeGreaterThan(0);
    expect(mean(lastHours)).toBeGreaterThan(2);
  });

  it('draws core labs once or twice a day, lactate mostly when sick', () => {
    const perDay = (kind: string, filter: (p: PatientRecord) => boolean) => {
      let count = 0;
      let days = 0;
      for (const [id, p] of patients) {
        if (!filter(p)) continue;
        const events = clean(id);
        const first = Date.parse(events[0]!.occurredAt);
        const last = Date.parse(events[events.length - 1]!.occurredAt);
        if (last - first < 24 * HOUR) continue;
        days += (last - first) / (24 * HOUR);
        count += events.filter((e) => e.schema === 'lab_result' && e.payload.kind === kind).length;
      }
      return count / days;
    };
    const creatinine = perDay('creatinine', stable);
    expect(creatinine).toBeGreaterThan(0.9);
    expect(creatinine).toBeLessThan(2);
    const severe = (p: PatientRecord) => p.eventTime !== null;
    expect(perDay('lactate', stable)).toBeLessThan(0.3);
    expect(perDay('lactate', severe)).toBeGreaterThan(3 * perDay('lactate', stable));
  });

  it('leaves values missing at the configured rates', () => {
    // Per vitals round (one systolic BP), how often is the heart rate missing? (configured 2 %)
    let rounds = 0;
    let withoutHr = 0;
    for (const [id] of patients) {
      const byTime = new Map<string, Set<string>>();
      for (const e of clean(id)) if (e.schema === 'vital_sign') byTime.set(e.occurredAt, (byTime.get(e.occurredAt) ?? new Set()).add(e.payload.kind));
      for (const kinds of byTime.values()) {
        if (!kinds.has('respiratory_rate')) continue;
        rounds++;
        if (!kinds.has('heart_rate')) withoutHr++;
      }
    }
    expect(withoutHr / rounds).toBeGreaterThan(0.008);
    expect(withoutHr / rounds).toBeLessThan(0.04);
  });
});

describe('artefacts', () => {
  it('come at the configured rates and stay schema-valid', () => {
    const counts = new Map<string, number>();
    for (const r of cohort.events) if (r.artefact) counts.set(r.artefact, (counts.get(r.artefact) ?? 0) + 1);
    const n = cohort.events.length;
    // artefactRate 0.02: a quarter each for duplicates, late and out-of-order events (0.5 % of events).
    for (const kind of ['duplicate', 'late', 'out_of_order'] as const) {
      const rate = (counts.get(kind) ?? 0) / n;
      expect(rate, kind).toBeGreaterThan(0.0035);
      expect(rate, kind).toBeLessThan(0.0065);
    }
    const temps = cohort.events.filter((r) => r.event.schema === 'vital_sign' && r.event.payload.kind === 'temperature' && r.event.payload.unit === 'Cel');
    const fahrenheit = temps.filter((r) => r.artefact === 'fahrenheit_as_celsius');
    expect(fahrenheit.length / temps.length).toBeGreaterThan(0.06);
    expect(fahrenheit.length / temps.length).toBeLessThan(0.14);
    for (const r of fahrenheit) expect(r.event.schema === 'vital_sign' && r.event.payload.value).toBeGreaterThan(90);
    const impossible = cohort.events.filter((r) => r.artefact === 'impossible_value');
    expect(impossible.length).toBeGreaterThan(0);
    for (const r of impossible) {
      const p = r.event.payload as { kind: string; value: number };
      const limits: Record<string, number> = { heart_rate: 300, systolic_bp: 400, diastolic_bp: 300, mean_bp: 300, respiratory_rate: 70, spo2: 100, temperature: 50 };
      expect(p.value, p.kind).toBeGreaterThan(limits[p.kind]!);
    }
  });

  it('duplicates repeat the same event id; late and out-of-order events arrive after later events', () => {
    const dup = cohort.events.find((r) => r.artefact === 'duplicate')!;
    expect(cohort.events.filter((r) => r.event.eventId === dup.event.eventId)).toHaveLength(2);
    const late = cohort.events.filter((r) => r.artefact === 'late');
    for (const r of late) expect(Date.parse(r.availableAt) - Date.parse(r.event.occurredAt)).toBeGreaterThanOrEqual(2 * HOUR);
    // In delivery order, a late event follows some event of the same patient that happened after it.
    const l = late[0]!;
    const list = streams.get(l.event.patientId)!;
    const before = list.slice(0, list.indexOf(l));
    expect(before.some((r) => Date.parse(r.event.occurredAt) > Date.parse(l.event.occurredAt))).toBe(true);
  });
});

describe('physiology', () => {
  it("deteriorating patients' NEWS2 rises before their outcome; stable patients' does not", () => {
    const rises: number[] = [];
    for (const p of cohort.patients) {
      if (!p.eventTime || !p.onsetTime) continue;
      const onset = Date.parse(p.onsetTime);
      const event = Date.parse(p.eventTime);
      const timeline = news2Timeline(clean(p.patientId));
      const baseline = timeline.filter((x) => x.t < onset && x.t >= onset - 12 * HOUR).map((x) => x.score);
      const late = timeline.filter((x) => x.t < event && x.t >= event - 2 * HOUR).map((x) => x.score);
      if (baseline.length === 0 || late.length === 0) continue;
      rises.push(mean(late) - mean(baseline));
    }
    expect(rises.length).toBeGreaterThan(20);
    expect(mean(rises)).toBeGreaterThan(3);
    expect(rises.filter((r) => r >= 2).length / rises.length).toBeGreaterThan(0.8);

    const drift: number[] = [];
    const highShare: number[] = [];
    for (const p of cohort.patients) {
      if (p.course !== 'stable') continue;
      const timeline = news2Timeline(clean(p.patientId));
      if (timeline.length < 24) continue;
      drift.push(mean(timeline.slice(-12).map((x) => x.score)) - mean(timeline.slice(0, 12).map((x) => x.score)));
      highShare.push(timeline.filter((x) => x.score >= 7).length / timeline.length);
    }
    expect(Math.abs(mean(drift))).toBeLessThan(0.5);
    expect(mean(highShare)).toBeLessThan(0.02);
  });

  it('moves several signals together: sepsis lactate and bleeding haemoglobin', () => {
    const change = (course: string, kind: string) => {
      const deltas: number[] = [];
      for (const p of cohort.patients) {
        if (p.course !== course || !p.eventTime) continue;
        const labs = clean(p.patientId).filter((e) => e.schema === 'lab_result' && e.payload.kind === kind);
        const first = labs[0];
        const nearEvent = labs.filter((e) => Date.parse(e.occurredAt) <= Date.parse(p.eventTime!) + 4 * HOUR).at(-1);
        if (first && nearEvent && first !== nearEvent) deltas.push((nearEvent.payload as { value: number }).value - (first.payload as { value: number }).value);
      }
      return median(deltas);
    };
    expect(change('sepsis', 'lactate')).toBeGreaterThan(1);
    expect(change('bleeding', 'hemoglobin')).toBeLessThan(-1);
  });

  it('writes notes whose content follows the latent state, with negations and noise', () => {
    const notes = cohort.events.filter((r) => r.event.schema === 'clinical_note').map((r) => r.event);
    const concern = /deteriorating|concerned|escalated|increased work of breathing\.|melaena x2|rigors this shift|high concern|clinically worse/i;
    const share = (filter: (p: PatientRecord, t: number) => boolean) => {
      const chosen = notes.filter((e) => filter(patients.get(e.patientId)!, Date.parse(e.occurredAt)));
      return chosen.filter((e) => e.schema === 'clinical_note' && concern.test(e.payload.text.replace(/No increased work of breathing\./g, ''))).length / chosen.length;
    };
    const stableShare = share((p) => p.course === 'stable');
    const nearEvent = share((p, t) => p.eventTime !== null && t <= Date.parse(p.eventTime) + 2 * HOUR && t >= Date.parse(p.eventTime) - 8 * HOUR);
    expect(stableShare).toBeLessThan(0.05);
    expect(nearEvent).toBeGreaterThan(0.4);
    expect(notes.some((e) => e.schema === 'clinical_note' && /No increased work of breathing/.test(e.payload.text))).toBe(true);
  });
});

describe('labels', () => {
  it('are 1 exactly when death, ICU transfer or the deterioration event follows within the horizon', () => {
    const p: PatientRecord = {
      patientId: 'p', encounterId: 'e', gender: 'F', age: 70, admissionType: 'emergency', unit: 'MED-A', department: 'medicine', spo2Scale: 1,
      admitTime: '2026-01-01T00:00:00Z', course: 'sepsis', onsetTime: '2026-01-01T10:00:00Z', eventTime: '2026-01-01T20:00:00Z', outcome: 'icu_transfer', outcomeTime: '2026-01-01T22:00:00Z',
    };
    expect(labelAt(p, '2026-01-01T07:59:00Z')).toBe(0);
    expect(labelAt(p, '2026-01-01T08:00:00Z')).toBe(1);
    expect(labelAt(p, '2026-01-01T19:59:00Z')).toBe(1);
    // After the deterioration event, the ICU transfer is still ahead.
    expect(labelAt(p, '2026-01-01T21:00:00Z')).toBe(1);
    expect(labelAt(p, '2026-01-01T12:00:00Z', 4)).toBe(0);
    const stable = { ...p, course: 'stable' as const, onsetTime: null, eventTime: null, outcome: 'discharged' as const };
    expect(labelAt(stable, '2026-01-01T21:00:00Z')).toBe(0);
  });

  it('hourly grid agrees with labelAt and has a plausible prevalence', async () => {
    const { labelGrid } = await import('../src/index.js');
    const labels = labelGrid(cohort.patients, { end: cohort.meta.end });
    for (const l of labels.slice(0, 2000)) expect(l.label).toBe(labelAt(patients.get(l.patientId)!, l.time));
    const prevalence = labels.filter((l) => l.label === 1).length / labels.length;
    expect(prevalence).toBeGreaterThan(0.01);
    expect(prevalence).toBeLessThan(0.1);
  });
});
