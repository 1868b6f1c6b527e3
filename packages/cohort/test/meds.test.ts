import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateRawEvent, type RawEvent } from '@ehr/features';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapMeds, MEDS_DEMO_RELATIVE_PATH, readMeds, roundFloat32, shiftMedsTimeline, type MedsData } from '../src/index.js';

// The MIMIC-IV demo sits beside the checkout (../shared), never inside it.
const file = fileURLToPath(new URL(`../../../${MEDS_DEMO_RELATIVE_PATH}`, import.meta.url));
const present = existsSync(file);
const title = present ? 'MEDS mapping (MIMIC-IV demo)' : `MEDS mapping: SKIPPED, the MIMIC-IV demo is not at ${file}`;

describe('float32 rounding', () => {
  it('gives the decimal that was charted', () => {
    expect(roundFloat32(Math.fround(98.4))).toBe(98.4);
    expect(roundFloat32(Math.fround(1.7))).toBe(1.7);
    expect(roundFloat32(Math.fround(0.3))).toBe(0.3);
    expect(roundFloat32(91)).toBe(91);
  });
});

describe('MEDS discharge codes', () => {
  it('maps a discharge location the table does not know, even one named like a property of every object, to other', () => {
    const t0 = Date.parse('2026-01-01T08:00:00Z');
    const rows = (location: string) => [
      { subjectId: 1, time: t0, code: 'HOSPITAL_ADMISSION//EW EMER.', value: null },
      { subjectId: 1, time: t0 + 3_600_000, code: `HOSPITAL_DISCHARGE//${location}`, value: null },
    ];
    for (const location of ['toString', '__proto__', 'constructor', 'NOWHERE', 'HOME']) {
      const discharge = mapMeds(rows(location)).events.find((e) => e.schema === 'discharge')!;
      expect(validateRawEvent(discharge).ok, location).toBe(true);
      expect(discharge.payload, location).toMatchObject({ outcome: location === 'HOME' ? 'home' : 'other' });
    }
  });
});

describe.skipIf(!present)(title, () => {
  let data: MedsData;
  beforeAll(async () => {
    data = await readMeds(file);
  }, 60_000);

  const find = (patientId: string, occurredAt: string, pred: (e: RawEvent) => boolean) =>
    data.events.filter((e) => e.patientId === patientId && e.occurredAt === occurredAt && pred(e));
  const kind = (k: string) => (e: RawEvent) => (e.schema === 'vital_sign' || e.schema === 'lab_result') && e.payload.kind === k;

  it('maps known chart rows: values, units, times, encounter', () => {
    // LAB//220045//bpm, subject 10000032, 2180-07-23 14:12, 91
    const [hr] = find('mimic-10000032', '2180-07-23T14:12:00Z', kind('heart_rate'));
    expect(hr).toMatchObject({ schema: 'vital_sign', encounterId: 'mimic-10000032-21800723T1235', source: 'meds', payload: { kind: 'heart_rate', value: 91, unit: '/min' } });
    // LAB//223761//°F 98.7 (float32 98.69999694824219) → 37.06 °C
    expect(find('mimic-10000032', '2180-07-23T14:00:00Z', kind('temperature'))[0]!.payload).toEqual({ kind: 'temperature', value: 37.06, unit: 'Cel' });
    // LAB//220179//mmHg 84: non-invasive systolic
    expect(find('mimic-10000032', '2180-07-23T14:11:00Z', kind('systolic_bp'))[0]!.payload).toEqual({ kind: 'systolic_bp', value: 84, unit: 'mm[Hg]', method: 'non-invasive' });
    // GCS eye 4 + verbal 4 + motor 6 at 14:45 → 14
    expect(find('mimic-10000032', '2180-07-23T14:45:00Z', kind('gcs'))[0]!.payload).toMatchObject({ kind: 'gcs', value: 14, unit: '{score}' });
    // LAB//223835//UNK (FiO2, percent) 100 → fraction 1; O2 flow 15 L/min marks supplemental oxygen
    expect(find('mimic-10002428', '2156-04-19T19:30:00Z', kind('fio2'))[0]!.payload).toEqual({ kind: 'fio2', value: 1, unit: '1' });
    expect(find('mimic-10002428', '2156-04-19T19:30:00Z', kind('o2_flow'))[0]!.payload).toEqual({ kind: 'o2_flow', value: 15, unit: 'L/min' });
    expect(find('mimic-10002428', '2156-04-19T19:30:00Z', kind('supplemental_o2'))[0]!.payload).toMatchObject({ value: 1, unit: '{bool}' });
    // A temperature charted in °C stays as sent, so a °F number there (97.2) reaches the feature service to be caught.
    expect(find('mimic-10037975', '2185-01-20T20:00:00Z', kind('temperature'))[0]!.payload).toEqual({ kind: 'temperature', value: 97.2, unit: 'Cel' });
  });

  it('maps known lab rows with canonical units, LOINC and item id; outpatient labs stay out', () => {
    // LAB//50813//mmol/L 1.7 (float32 1.7000000476837158), 2180-06-26 16:39, ED before the 18:27 admission
    const [lactate] = find('mimic-10000032', '2180-06-26T16:39:00Z', kind('lactate'));
    expect(lactate).toMatchObject({ encounterId: 'mimic-10000032-21800626T1827', payload: { kind: 'lactate', value: 1.7, unit: 'mmol/L', loinc: '32693-4', itemId: 50813 } });
    // LAB//50912//mg/dL 0.3 at 22:25, two minutes after the 22:23 admission
    expect(find('mimic-10000032', '2180-05-06T22:25:00Z', kind('creatinine'))[0]!.payload).toEqual({ kind: 'creatinine', value: 0.3, unit: 'mg/dL', loinc: '2160-0', itemId: 50912 });
    // 2180-03-23 11:51 platelets 83 K/uL: an outpatient draw, outside any admission
    expect(find('mimic-10000032', '2180-03-23T11:51:00Z', () => true)).toEqual([]);
    expect(data.stats.outsideAdmission).toBeGreaterThan(1000);
  });

  it('maps admissions, ICU stays, discharges and deaths', () => {
    const count = (pred: (e: RawEvent) => boolean) => data.events.filter(pred).length;
    expect(data.patients).toHaveLength(100);
    expect(count((e) => e.schema === 'admission')).toBe(275);
    expect(count((e) => e.schema === 'discharge')).toBe(275);
    expect(count((e) => e.schema === 'discharge' && e.payload.outcome === 'died')).toBe(15);
    expect(count((e) => e.schema === 'transfer' && e.payload.icu)).toBe(140);
    const [admission] = find('mimic-10000032', '2180-05-06T22:23:00Z', (e) => e.schema === 'admission');
    expect(admission).toMatchObject({ encounterId: 'mimic-10000032-21800506T2223', payload: { admissionType: 'URGENT', unit: 'Transplant', gender: 'F', age: 52 } });
    expect(find('mimic-10000032', '2180-05-07T17:15:00Z', (e) => e.schema === 'discharge')[0]!.payload).toEqual({ outcome: 'home', location: 'HOME' });
    expect(find('mimic-10000032', '2180-07-23T14:00:00Z', (e) => e.schema === 'transfer')[0]!.payload).toEqual({ toUnit: 'Medical Intensive Care Unit (MICU)', icu: true });
    expect(find('mimic-10000032', '2180-07-23T23:50:47Z', (e) => e.schema === 'transfer')[0]!.payload).toEqual({ fromUnit: 'Medical Intensive Care Unit (MICU)', toUnit: 'Transplant', icu: false });
    const died = data.patients.filter((p) => p.admissions.some((a) => a.died));
    expect(died.length).toBeGreaterThan(10);
  });

  it('emits valid events, each encounter opened by its admission', () => {
    const opened = new Set<string>();
    const problems: string[] = [];
    for (const e of data.events) {
      const v = validateRawEvent(e);
      if (!v.ok) problems.push(v.error);
      if (e.schema === 'admission') opened.add(e.encounterId!);
      else if (!opened.has(e.encounterId!)) problems.push(`${e.schema} before its admission`);
    }
    expect(problems.slice(0, 3)).toEqual([]);
    expect(new Set(data.events.map((e) => e.eventId)).size).toBe(data.events.length);
  });

  it('shifts time to now: patients staggered, each stay intact, in event-time order', () => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    const shifted = shiftMedsTimeline(data, { startMs: start, staggerMinutes: 30, maxGapHours: 24 });
    expect(shifted).toHaveLength(data.events.length);
    expect(shifted[0]!.occurredAt).toBe('2030-01-01T00:00:00Z');
    const times = shifted.map((e) => Date.parse(e.occurredAt));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    // Within a stay the spacing is exact: the ICU heart rate 12 minutes after the ICU transfer.
    const original = new Map(data.events.map((e) => [e.eventId, Date.parse(e.occurredAt)]));
    const icuIn = shifted.find((e) => e.patientId === 'mimic-10000032' && e.schema === 'transfer' && e.payload.icu)!;
    const hr = shifted.find((e) => e.patientId === 'mimic-10000032' && e.occurredAt > icuIn.occurredAt && e.schema === 'vital_sign' && e.payload.kind === 'heart_rate')!;
    expect(Date.parse(hr.occurredAt) - Date.parse(icuIn.occurredAt)).toBe(original.get(hr.eventId)! - original.get(icuIn.eventId)!);
    // The last patient starts 99 slots after the first.
    const firsts = new Map<string, number>();
    for (const e of shifted) if (!firsts.has(e.patientId)) firsts.set(e.patientId, Date.parse(e.occurredAt));
    expect(Math.max(...firsts.values()) - start).toBe(99 * 30 * 60_000);
  });
});
