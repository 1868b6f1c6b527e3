import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateRawEvent, type RawEvent } from '@ehr/features';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapMeds, MEDS_DEMO_RELATIVE_PATH, readMeds, roundFloat32, shiftMedsTimeline, usedMedsRows, type MedsData, type MedsRow } from '../src/index.js';

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

const H = 3_600_000;
const T0 = Date.parse('2150-01-01T00:00:00Z');
const row = (time: number | null, code: string, value: number | null = null, subjectId = 1): MedsRow => ({ subjectId, time, code, value });

describe('MEDS admissions of one subject', () => {
  it('ties each event to the stay whose window holds it: from the ED registration to the discharge, ICU stays closed latest first', () => {
    const rows = [
      row(T0 + 5 * H, 'HOSPITAL_DISCHARGE//HOME'),
      row(T0 - 2 * H, 'ED_REGISTRATION//'),
      row(T0 - H, 'LAB//220045//bpm', 90),
      row(T0, 'HOSPITAL_ADMISSION//EW EMER.'),
      row(T0 + H, 'ICU_ADMISSION//MICU'),
      row(T0 + 2 * H, 'ICU_ADMISSION//SICU'),
      row(T0 + 3 * H, 'ICU_DISCHARGE//SICU'),
      row(T0 + 3 * H, 'TRANSFER_TO//transfer//MICU'),
      row(T0 + 4 * H, 'ICU_DISCHARGE//MICU'),
      row(T0 + 5 * H, 'LAB//220045//bpm', 80),
      row(T0 + 10 * H, 'LAB//220045//bpm', 70),
      row(T0 + 20 * H, 'HOSPITAL_ADMISSION//URGENT'),
      row(T0 + 21 * H, 'LAB//220045//bpm', 100),
    ];
    const data = mapMeds(rows);
    const [first, second] = data.patients[0]!.admissions;
    expect(first!.icuStays).toEqual([
      { unit: 'MICU', inTime: '2150-01-01T01:00:00Z', outTime: '2150-01-01T04:00:00Z' },
      { unit: 'SICU', inTime: '2150-01-01T02:00:00Z', outTime: '2150-01-01T03:00:00Z' },
    ]);
    const hr = data.events.filter((e) => e.schema === 'vital_sign').map((e) => [e.occurredAt, e.encounterId]);
    expect(hr).toEqual([
      ['2149-12-31T23:00:00Z', first!.encounterId],
      ['2150-01-01T05:00:00Z', first!.encounterId],
      ['2150-01-01T21:00:00Z', second!.encounterId],
    ]);
    expect(data.stats.outsideAdmission).toBe(1);
    const leaving = data.events.filter((e) => e.schema === 'transfer' && !e.payload.icu).map((e) => e.schema === 'transfer' && [e.payload.fromUnit, e.payload.toUnit]);
    expect(leaving).toEqual([
      ['SICU', 'MICU'],
      ['MICU', 'ward'],
    ]);
  });

  it("maps thousands of one subject's stays reading each row a bounded number of times (each ICU discharge rescanned the subject's rows)", () => {
    const n = 5_000;
    let timeReads = 0;
    const counted = (time: number, code: string, value: number | null = null): MedsRow => ({
      subjectId: 1,
      get time() {
        timeReads++;
        return time;
      },
      code,
      value,
    });
    const rows: MedsRow[] = [];
    for (let i = 0; i < n; i++) {
      const t = T0 + i * 10 * H;
      rows.push(counted(t, 'HOSPITAL_ADMISSION//EW EMER.'), counted(t + H, 'ICU_ADMISSION//MICU'), counted(t + 2 * H, 'LAB//220045//bpm', 80));
      rows.push(counted(t + 3 * H, 'ICU_DISCHARGE//MICU'), counted(t + 3 * H, `TRANSFER_TO//transfer//Ward ${i}`), counted(t + 4 * H, 'HOSPITAL_DISCHARGE//HOME'));
    }
    const data = mapMeds(rows);
    // Sorting reads each time about 2 log2(rows) ≈ 30 times; a rescan per ICU discharge thousands of times.
    expect(timeReads / rows.length).toBeLessThan(100);
    const admissions = data.patients[0]!.admissions;
    expect(admissions).toHaveLength(n);
    const hr = data.events.filter((e) => e.schema === 'vital_sign');
    expect(hr.every((e, i) => e.encounterId === admissions[i]!.encounterId)).toBe(true);
    const leaving = data.events.filter((e) => e.schema === 'transfer' && !e.payload.icu);
    expect(leaving.every((e, i) => e.schema === 'transfer' && e.payload.toUnit === `Ward ${i}` && e.encounterId === admissions[i]!.encounterId)).toBe(true);
    expect(admissions.every((a) => a.icuStays.length === 1 && a.icuStays[0]!.outTime !== null)).toBe(true);
  });
});

describe('MEDS rows that cannot be read', () => {
  it('are skipped, counted and warned once per reason (with the row), instead of a RangeError or a merged subject', () => {
    const warnings: string[] = [];
    const rows = [
      row(T0, 'HOSPITAL_ADMISSION//EW EMER.'),
      row(NaN, 'LAB//220045//bpm', 80),
      row(T0 + H, 'LAB//220045//bpm', 80, 2 ** 60),
      { ...row(T0 + H, 'LAB//220045//bpm', 80), code: null as unknown as string },
      row(T0 + H, 'LAB//220045//bpm', NaN),
      row(NaN, 'LAB//220045//bpm', 81),
      row(T0 + 2 * H, 'LAB//220045//bpm', 82),
    ];
    const data = mapMeds(rows, { warn: (m) => warnings.push(m) });
    expect(data.events.map((e) => e.schema)).toEqual(['admission', 'vital_sign']);
    expect(data.patients.map((p) => p.subjectId)).toEqual([1]);
    expect(data.stats.skippedRows).toBe(5);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toBe('MEDS rows: 2 row(s) skipped: time is not a valid epoch-ms timestamp (first at row index 1)');
  });

  it('in the parquet columns: no code, no subject or one past 2^53, an invalid time, a value that is not a number', () => {
    const warnings: string[] = [];
    const at = new Date(T0);
    const columns = {
      subject_id: [1n, 1n, null, 2n ** 53n + 1n, 1n, 1n, null, 9_007_199_254_740_993n],
      time: [at, at, at, at, new Date(NaN), at, at, at],
      code: ['HOSPITAL_ADMISSION//EW EMER.', null, 'LAB//220045//bpm', 'LAB//220045//bpm', 'LAB//220045//bpm', 'LAB//220045//bpm', 'MEDICATION//x', 'LAB//220045//bpm'],
      value: [null, null, 80, 80, 80, 'eighty', null, 81],
    };
    const { rows, skipped } = usedMedsRows(columns, 'events.parquet', (m) => warnings.push(m));
    // Number(null) made subject 0, and 2^53 + 1 became 2^53: someone else's events.
    expect(rows).toEqual([{ subjectId: 1, time: T0, code: 'HOSPITAL_ADMISSION//EW EMER.', value: null }]);
    expect(skipped).toBe(6);
    expect(warnings).toEqual([
      'events.parquet: 1 row(s) skipped: code missing or not text (first at row index 1)',
      'events.parquet: 3 row(s) skipped: subject_id missing or not an integer below 2^53 (first at row index 2)',
      'events.parquet: 1 row(s) skipped: time is not a valid timestamp (first at row index 4)',
      'events.parquet: 1 row(s) skipped: value is not a finite number (first at row index 5)',
    ]);
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
