import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateRawEvent, type RawEvent } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { PHYSIONET_MEASUREMENTS, PHYSIONET_RELATIVE_DIR, readPhysioNet, stayEvents, TABLE_COLUMNS, type PhysioNetTable } from '../src/index.js';

// The data sits beside the checkout (../shared), never inside it.
const dir = fileURLToPath(new URL(`../../../${PHYSIONET_RELATIVE_DIR}`, import.meta.url));
const sample = join(dir, 'psv-sample');
const parquet = join(dir, 'physionet2019_setB_train.parquet');
const tmp = mkdtempSync(join(tmpdir(), 'ehr-physionet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER = 'HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel';

describe('PhysioNet .psv files (written here)', () => {
  it('reads columns by header in any order, NaN as missing, and reports an unknown column once', async () => {
    const d = join(tmp, 'shuffled');
    rmSync(d, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d);
    writeFileSync(join(d, 'p000002.psv'), 'ICULOS|SepsisLabel|HR|Age|Gender|Unit1|Unit2|HospAdmTime|Lactate|Mystery\n1|0|88|61|0|NaN|NaN|-2.5|NaN|7\n2|0|NaN|61|0|NaN|NaN|-2.5|2.4|7\n3|1|120|61|0|NaN|NaN|-2.5|NaN|\n');
    writeFileSync(join(d, 'p000001.psv'), `${HEADER}\r\n${'NaN|'.repeat(34)}70|1|1|0|-10|1|0\r\n`);
    const warnings: string[] = [];
    const t = await readPhysioNet(d, { warn: (m) => warnings.push(m) });
    expect(t.source).toMatchObject({ kind: 'psv', files: 2 });
    expect(t.stays.map((s) => s.patientId)).toEqual(['p000001', 'p000002']);
    expect(t.unknownColumns).toEqual(['Mystery']);
    expect(warnings.filter((w) => w.includes('Mystery'))).toHaveLength(1);
    const hr = t.columns.get('HR')!;
    expect([hr[1], Number.isNaN(hr[2]!), hr[3]]).toEqual([88, true, 120]);
    expect(t.columns.get('Lactate')![2]).toBe(2.4);
    expect(t.hasLabels).toBe(true);
    const s = stayEvents(t, 1, { start: '2026-01-05T00:00:00Z' });
    expect(s.patientId).toBe('physionet-p000002');
    expect(Array.from(s.labels!)).toEqual([0, 0, 1]);
    expect(s.rowTimes[0]).toBe(Date.parse('2026-01-05T01:00:00Z'));
    const adm = s.events[0]!;
    expect(adm).toMatchObject({ schema: 'admission', occurredAt: '2026-01-05T00:00:00Z', payload: { unit: 'ICU', gender: 'F', age: 61, hospitalAdmitTime: '2026-01-04T21:30:00Z' } });
    const lactate = s.events.find((e) => e.schema === 'lab_result');
    expect(lactate).toMatchObject({ occurredAt: '2026-01-05T02:00:00Z', source: 'physionet', payload: { kind: 'lactate', value: 2.4, unit: 'mmol/L' } });
    expect(s.events.at(-1)).toMatchObject({ schema: 'discharge', occurredAt: '2026-01-05T04:00:00Z' });
    for (const e of s.events) expect(validateRawEvent(e).ok).toBe(true);
    expect(new Set(s.events.map((e) => e.eventId)).size).toBe(s.events.length);
    // Same stay, same ids; the ids do not show the patient id.
    expect(stayEvents(t, 1).events.map((e) => e.eventId)).toEqual(s.events.map((e) => e.eventId));
    expect(s.events[1]!.eventId).not.toContain('p000002');
  });

  it('maps every measurement column to a signal with the Challenge\'s unit, MICU/SICU to the unit and department', async () => {
    expect(PHYSIONET_MEASUREMENTS).toHaveLength(34);
    const d = join(tmp, 'full');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d, { recursive: true });
    const values = PHYSIONET_MEASUREMENTS.map((_, i) => String(i + 1));
    writeFileSync(join(d, 'p1.psv'), `${HEADER}\n${values.join('|')}|80|1|0|1|-0.02|3|0\n`);
    const t = await readPhysioNet(d);
    const s = stayEvents(t, 0);
    const measured = s.events.filter((e): e is Extract<RawEvent, { schema: 'vital_sign' | 'lab_result' }> => e.schema === 'vital_sign' || e.schema === 'lab_result');
    expect(measured.map((e) => e.payload.kind)).toEqual(PHYSIONET_MEASUREMENTS.map((m) => m.kind));
    expect(s.events[0]).toMatchObject({ payload: { unit: 'SICU', department: 'surgery', gender: 'M', age: 80 } });
  });
});

describe('PhysioNet cells that cannot be read', () => {
  const stayDir = (name: string, files: Record<string, string>) => {
    const d = join(tmp, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(d, file), text);
    return d;
  };

  it('a cell that is not a number is read as missing, counted per file and column, and warned naming the line', async () => {
    // A decimal comma, a stray space, text: each was a missing value with no warning.
    const d = stayDir('unreadable', {
      'p000001.psv': 'HR|O2Sat|Temp|ICULOS|SepsisLabel\n80|97|36,9|1|0\n\n82|9 7|37.0|2|0\nabc|96|37,1|3|1\n',
      'p000002.psv': 'HR|O2Sat|Temp|ICULOS|SepsisLabel\n80|97|NaN||0\n',
    });
    const warnings: string[] = [];
    const t = await readPhysioNet(d, { warn: (m) => warnings.push(m) });
    expect(Array.from(t.columns.get('Temp')!.subarray(0, 3))).toEqual([NaN, 37, NaN]);
    const file = join(d, 'p000001.psv');
    expect(t.unreadableCells).toEqual([
      { file, column: 'Temp', count: 2, first: 'line 2', example: '36,9' },
      { file, column: 'O2Sat', count: 1, first: 'line 4', example: '9 7' },
      { file, column: 'HR', count: 1, first: 'line 5', example: 'abc' },
    ]);
    expect(warnings.filter((w) => w.includes('not numbers'))).toEqual([`${file}: 4 cell(s) that are not numbers, read as missing: Temp ×2 (first at line 2: "36,9"), O2Sat ×1 (first at line 4: "9 7"), HR ×1 (first at line 5: "abc")`]);
  });

  it.each([
    ['ICULOS', 'HR|ICULOS\n80|1\n81|1e12\n', ':3: ICULOS 1000000000000 is out of range'],
    ['ICULOS', 'HR|ICULOS\n80|-3\n', ':2: ICULOS -3 is out of range'],
    ['HospAdmTime', 'HR|HospAdmTime|ICULOS\n80|-1e12|1\n', ':2: HospAdmTime -1000000000000 is out of range'],
  ])('%s out of range fails naming the file and line, not a bare RangeError later', async (_, text, message) => {
    const d = stayDir('time-range', { 'p9.psv': text });
    await expect(readPhysioNet(d)).rejects.toThrow(`${join(d, 'p9.psv')}${message}`);
  });

  it('a table whose ICULOS gives no time fails naming the stay and row when mapped', () => {
    const columns = new Map(TABLE_COLUMNS.map((c) => [c, new Float64Array([NaN, NaN])]));
    columns.get('ICULOS')!.set([1, 1e12]);
    const table: PhysioNetTable = { source: { kind: 'psv', path: 'x', sha256: '', files: 1 }, rows: 2, columns, stays: [{ patientId: 'p7', start: 0, end: 2 }], unknownColumns: [], missingColumns: [], hasLabels: false, unreadableCells: [] };
    expect(() => stayEvents(table, 0)).toThrow('PhysioNet stay p7, row 2: ICULOS 1000000000000');
  });
});

describe.skipIf(!existsSync(sample) || !existsSync(parquet))(existsSync(parquet) ? 'PhysioNet data beside the checkout' : `PhysioNet: SKIPPED, the data is not at ${dir}`, () => {
  let psv: PhysioNetTable;
  let packed: PhysioNetTable;
  it('the 20 .psv stays read the same as their rows in the packed parquet', async () => {
    psv = await readPhysioNet(sample);
    packed = await readPhysioNet(parquet);
    expect(packed.stays).toHaveLength(18000);
    expect(packed.rows).toBe(685270);
    expect(packed.unknownColumns).toEqual([]);
    expect([packed.unreadableCells, psv.unreadableCells]).toEqual([[], []]);
    expect(packed.source.sha256).toBe('0520cbcc1948ccebc2c39bc129049296652fb29a7b1fa164f972c6d3beda7ade');
    expect(psv.stays).toHaveLength(20);
    const index = new Map(packed.stays.map((s, i) => [s.patientId, i]));
    for (let k = 0; k < psv.stays.length; k++) {
      const a = stayEvents(psv, k);
      const b = stayEvents(packed, index.get(psv.stays[k]!.patientId)!);
      expect(a.events).toEqual(b.events);
      expect(a.labels).toEqual(b.labels);
    }
  }, 60_000);
});
