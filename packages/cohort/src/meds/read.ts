// The MIMIC-IV demo in MEDS (one row per event: subject_id, time, code, value) → the
// project's raw events. MEDS has no admission or stay ids, so events are linked to a
// hospital admission by time; `value` is float32, so numbers are rounded on the way in.
import { existsSync } from 'node:fs';
import { asyncBufferFromFile, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { deterministicId, LAB_UNITS, VITAL_UNITS, type DischargeOutcome, type RawEvent } from '@ehr/features';
import { LAB_LOINC, MIMIC_GCS_ITEMS, MIMIC_ITEMS } from '../codes.js';
import { HOUR, isDateMs, iso } from '../time.js';

/** Where the MIMIC-IV demo lives beside a checkout (tests and CLIs resolve it from the repo root). */
export const MEDS_DEMO_RELATIVE_PATH = '../shared/data/mimic-iv-demo-meds/mimic_iv_demo_meds_events.parquet';

export interface MedsRow {
  subjectId: number;
  /** Epoch ms, or null for static facts (gender). */
  time: number | null;
  code: string;
  value: number | null;
}

export interface MedsAdmission {
  encounterId: string;
  admitTime: string;
  dischargeTime: string | null;
  admissionType: string;
  /** First care unit (ward or ICU) of the stay. */
  unit: string;
  dischargeLocation: string | null;
  died: boolean;
  icuStays: { unit: string; inTime: string; outTime: string | null }[];
}

export interface MedsPatient {
  subjectId: number;
  patientId: string;
  gender: 'F' | 'M' | 'U';
  birthTime: string | null;
  deathTime: string | null;
  admissions: MedsAdmission[];
}

export interface MedsStats {
  /** Rows the mapping looked at (of the codes it uses). */
  rows: number;
  mapped: number;
  /** Mapped codes with no value (MEDS keeps text values out). */
  withoutValue: number;
  /** Chart or lab events outside any hospital admission (outpatient labs). */
  outsideAdmission: number;
  /** GCS charted without all three components at one time. */
  incompleteGcs: number;
  /** Rows of a used code skipped because a cell cannot be read (no subject, an impossible time, …); warned once per reason. */
  skippedRows: number;
}

export interface ReadMedsOptions {
  /** Called once per reason rows were skipped, with how many and the first such row. */
  warn?: (message: string) => void;
}

export interface MedsData {
  patients: MedsPatient[];
  /** Raw events with MIMIC's (shifted) times, each patient's in time order. */
  events: RawEvent[];
  stats: MedsStats;
}

/** The shortest decimal that is the same float32: 98.4000015 → 98.4. */
export function roundFloat32(v: number): number {
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/** Codes the mapping uses: mapped items, admissions, ICU stays, transfers, demographics. */
function relevant(code: string): boolean {
  if (code.startsWith('LAB//')) {
    const item = Number(code.slice(5, code.indexOf('//', 5)));
    return MIMIC_ITEMS.has(item) || MIMIC_GCS_ITEMS.has(item);
  }
  return /^(HOSPITAL_|ICU_|TRANSFER_TO\/\/|ED_REGISTRATION|GENDER|MEDS_BIRTH|MEDS_DEATH)/.test(code);
}

/** Rows skipped, by reason, so that each reason is warned once (with the first row) rather than per row. */
class SkippedRows {
  total = 0;
  private readonly reasons = new Map<string, { count: number; first: number }>();

  add(reason: string, row: number): void {
    this.total++;
    const r = this.reasons.get(reason);
    if (r) r.count++;
    else this.reasons.set(reason, { count: 1, first: row });
  }

  report(where: string, warn: ((message: string) => void) | undefined): void {
    for (const [reason, { count, first }] of this.reasons) warn?.(`${where}: ${count} row(s) skipped: ${reason} (first at row index ${first})`);
  }
}


/** subject_id as a number, or null when it is missing or too large to stay exact (two subjects would merge). */
function subjectOf(v: unknown): number | null {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

/** Why a parquet row of a used code cannot be read, or null when it can. */
function rawRowProblem(subject: unknown, time: unknown, value: unknown): string | null {
  if (subjectOf(subject) === null) return 'subject_id missing or not an integer below 2^53';
  if (time !== null && time !== undefined && !(time instanceof Date && isDateMs(time.getTime()))) return 'time is not a valid timestamp';
  if (value !== null && value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) return 'value is not a finite number';
  return null;
}

/** Why a MedsRow handed to mapMeds cannot be mapped, or null when it can. */
function rowProblem(row: MedsRow): string | null {
  if (!Number.isSafeInteger(row.subjectId)) return 'subjectId is not a safe integer';
  if (typeof row.code !== 'string') return 'code is not a string';
  if (row.time !== null && !isDateMs(row.time)) return 'time is not a valid epoch-ms timestamp';
  if (row.value !== null && !(typeof row.value === 'number' && Number.isFinite(row.value))) return 'value is not a finite number';
  return null;
}

/** The rows of a MEDS parquet file that the mapping uses (read column-wise: most of the file is medications and diagnoses). */
export async function readMedsRows(file: string, options: ReadMedsOptions = {}): Promise<MedsRow[]> {
  return usedMedsRows(await readMedsColumns(file), file, options.warn).rows;
}

/** The four MEDS columns as the parquet reader gives them: whatever types the writer put there. */
export interface MedsColumns {
  subject_id: readonly unknown[];
  time: readonly unknown[];
  code: readonly unknown[];
  value: readonly unknown[];
}

async function readMedsColumns(file: string): Promise<MedsColumns> {
  if (!existsSync(file)) throw new Error(`MEDS file not found: ${file}`);
  const buffer = await asyncBufferFromFile(file);
  const columns = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  await parquetRead({
    file: buffer,
    // Every codec parquet writers use (polars writes zstd by default), not only snappy.
    compressors,
    columns: ['subject_id', 'time', 'code', 'value'],
    onChunk: (chunk) => {
      const list = columns.get(chunk.columnName) ?? [];
      list.push({ rowStart: chunk.rowStart, data: chunk.columnData });
      columns.set(chunk.columnName, list);
    },
  });
  const column = (name: string): unknown[] => {
    const out: unknown[] = [];
    for (const c of (columns.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart)) for (let i = 0; i < c.data.length; i++) out[c.rowStart + i] = c.data[i];
    return out;
  };
  return { subject_id: column('subject_id'), time: column('time'), code: column('code'), value: column('value') };
}

/**
 * The rows of the codes the mapping uses. A row whose cells cannot be read (no code, no
 * subject or one past 2^53, an invalid time, a value that is not a number) is skipped,
 * counted and warned once per reason, naming `file` and the first row index: passed on, it
 * crashed the mapping without context or merged subjects.
 */
export function usedMedsRows(columns: MedsColumns, file: string, warn?: (message: string) => void): { rows: MedsRow[]; skipped: number } {
  const { code: codes, subject_id: subjects, time: times, value: values } = columns;
  const keep = new Map<string, boolean>();
  const rows: MedsRow[] = [];
  const skipped = new SkippedRows();
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    // Without a code there is no telling whether the row was one the mapping uses.
    if (typeof code !== 'string') {
      skipped.add('code missing or not text', i);
      continue;
    }
    let k = keep.get(code);
    if (k === undefined) keep.set(code, (k = relevant(code)));
    if (!k) continue;
    const problem = rawRowProblem(subjects[i], times[i], values[i]);
    if (problem) {
      skipped.add(problem, i);
      continue;
    }
    const time = times[i] as Date | null | undefined;
    rows.push({ subjectId: subjectOf(subjects[i])!, time: time ? time.getTime() : null, code, value: (values[i] as number | null | undefined) ?? null });
  }
  skipped.report(file, warn);
  return { rows, skipped: skipped.total };
}

/** Keyed by the discharge location of a MEDS code: a Map, since `toString` or `__proto__` is a code a file can hold. */
const DISCHARGE_OUTCOMES: ReadonlyMap<string, DischargeOutcome> = new Map(Object.entries({
  DIED: 'died',
  HOME: 'home',
  'HOME HEALTH CARE': 'home',
  'SKILLED NURSING FACILITY': 'facility',
  REHAB: 'facility',
  'CHRONIC/LONG TERM ACUTE CARE': 'facility',
  HOSPICE: 'facility',
  'PSYCH FACILITY': 'facility',
  'ACUTE HOSPITAL': 'transferred',
} satisfies Record<string, DischargeOutcome>));

const compact = (ms: number) => iso(ms).replace(/[-:]/g, '').slice(0, 13);
const category = (s: string) => s.slice(0, 64) || 'UNKNOWN';

interface Window {
  admission: MedsAdmission;
  from: number;
  to: number;
}

/**
 * The admission whose window holds a time: the first window, in admission order, with
 * from ≤ t ≤ to. Asked in time order (a subject's rows are sorted), and `from` never
 * decreases from one admission to the next, so a window that ended before t is passed for
 * good: linear in rows plus admissions, where scanning every window per row was quadratic.
 */
function windowFinder(windows: readonly Window[]): (t: number) => Window | null {
  let first = 0;
  let previous = -Infinity;
  return (t) => {
    // Out of order (not how mapSubject asks): start again rather than answer wrongly.
    if (t < previous) first = 0;
    previous = t;
    while (first < windows.length && windows[first]!.to < t) first++;
    const w = windows[first];
    return w && w.from <= t ? w : null;
  };
}

/** Where the patient went when leaving intensive care at a time: the `TRANSFER_TO//…//<unit>` row of that time, if any. */
function transfersByTime(list: readonly { row: MedsRow }[]): Map<number, string | undefined> {
  const out = new Map<number, string | undefined>();
  for (const { row } of list) {
    if (row.time !== null && row.code.startsWith('TRANSFER_TO//') && !out.has(row.time)) out.set(row.time, row.code.split('//')[2]);
  }
  return out;
}

/**
 * Maps MEDS rows to raw events; rows of one subject may come in any order. A row that cannot
 * be mapped (no safe subject id, an impossible time, …) is skipped, counted in
 * `stats.skippedRows` and warned once per reason.
 */
export function mapMeds(rows: readonly MedsRow[], options: ReadMedsOptions = {}): MedsData {
  const bySubject = new Map<number, { row: MedsRow; index: number }[]>();
  const skipped = new SkippedRows();
  rows.forEach((row, index) => {
    const problem = rowProblem(row);
    if (problem) return skipped.add(problem, index);
    const list = bySubject.get(row.subjectId) ?? [];
    list.push({ row, index });
    bySubject.set(row.subjectId, list);
  });
  skipped.report('MEDS rows', options.warn);
  const stats: MedsStats = { rows: rows.length, mapped: 0, withoutValue: 0, outsideAdmission: 0, incompleteGcs: 0, skippedRows: skipped.total };
  const patients: MedsPatient[] = [];
  const events: RawEvent[] = [];
  for (const [subjectId, list] of [...bySubject].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => (a.row.time ?? -Infinity) - (b.row.time ?? -Infinity) || a.index - b.index);
    const { patient, events: mapped } = mapSubject(subjectId, list, stats);
    patients.push(patient);
    // Not push(...mapped): one subject's hundreds of thousands of events overflow the call stack.
    for (const e of mapped) events.push(e);
  }
  stats.mapped = events.length;
  return { patients, events, stats };
}

function mapSubject(subjectId: number, list: { row: MedsRow; index: number }[], stats: MedsStats): { patient: MedsPatient; events: RawEvent[] } {
  const patientId = `mimic-${subjectId}`;
  const patient: MedsPatient = { subjectId, patientId, gender: 'U', birthTime: null, deathTime: null, admissions: [] };
  const windows: Window[] = [];
  const admissionAt = new Map<number, MedsAdmission>();
  // Where a stay starts before its admission row: the emergency department, or a
  // same-day surgical patient moved between units before being formally admitted.
  let preAdmitSince: number | null = null;
  let open: Window | null = null;

  // Pass 1a: hospital admissions and their time windows.
  for (const { row } of list) {
    const [head, a = ''] = row.code.split('//');
    const t = row.time;
    if (head === 'GENDER') patient.gender = a === 'F' || a === 'M' ? a : 'U';
    else if (head === 'MEDS_BIRTH' && t !== null) patient.birthTime = iso(t);
    else if (head === 'MEDS_DEATH' && t !== null) patient.deathTime = iso(t);
    if (t === null) continue;
    if (!open && (head === 'ED_REGISTRATION' || head === 'TRANSFER_TO' || head === 'ICU_ADMISSION')) {
      if (preAdmitSince === null || t - preAdmitSince > 24 * HOUR) preAdmitSince = t;
    } else if (head === 'HOSPITAL_ADMISSION') {
      const admission: MedsAdmission = { encounterId: `${patientId}-${compact(t)}`, admitTime: iso(t), dischargeTime: null, admissionType: category(a), unit: '', dischargeLocation: null, died: false, icuStays: [] };
      const from = preAdmitSince !== null && preAdmitSince <= t && t - preAdmitSince <= 24 * HOUR ? preAdmitSince : t;
      open = { admission, from, to: Infinity };
      windows.push(open);
      if (!admissionAt.has(t)) admissionAt.set(t, admission);
      patient.admissions.push(admission);
    } else if (head === 'HOSPITAL_DISCHARGE' && open) {
      open.admission.dischargeTime = iso(t);
      open.admission.dischargeLocation = a || null;
      open.admission.died = a === 'DIED';
      open.to = t;
      open = null;
      preAdmitSince = null;
    }
  }

  // Pass 1b: first care unit and ICU stays of each admission.
  const stayWindowAt = windowFinder(windows);
  // The ICU stays still open, latest last: an ICU_DISCHARGE closes the latest.
  const openIcu = new Map<MedsAdmission, MedsAdmission['icuStays']>();
  for (const { row } of list) {
    const t = row.time;
    const w = t === null ? null : stayWindowAt(t);
    if (t === null || !w) continue;
    const [head, a = '', b = ''] = row.code.split('//');
    if (head === 'TRANSFER_TO' && a === 'admit' && !w.admission.unit && b !== 'Discharge Lounge') w.admission.unit = category(b);
    else if (head === 'ICU_ADMISSION') {
      const stay = { unit: category(a), inTime: iso(t), outTime: null };
      w.admission.icuStays.push(stay);
      const stillOpen = openIcu.get(w.admission) ?? [];
      stillOpen.push(stay);
      openIcu.set(w.admission, stillOpen);
      if (!w.admission.unit) w.admission.unit = category(a);
    } else if (head === 'ICU_DISCHARGE') {
      const stay = openIcu.get(w.admission)?.pop();
      if (stay) stay.outTime = iso(t);
    }
  }
  for (const w of windows) if (!w.admission.unit) w.admission.unit = 'UNKNOWN';

  // Pass 2: the events, each tied to the admission whose window holds it.
  const timed: { t: number; e: RawEvent }[] = [];
  const events = { push: (e: RawEvent) => void timed.push({ t: Date.parse(e.occurredAt), e }) };
  const age = (t: number) => (patient.birthTime ? Math.max(0, Math.min(130, Math.floor((t - Date.parse(patient.birthTime)) / (365.25 * 24 * HOUR)))) : undefined);
  const envelope = (index: number, t: number, encounterId: string, part = '') => ({
    schemaVersion: 1 as const,
    eventId: deterministicId('meds', subjectId, index, part),
    patientId,
    encounterId,
    occurredAt: iso(t),
    producedAt: iso(t),
    source: 'meds' as const,
  });
  const windowAt = windowFinder(windows);
  const transferTo = transfersByTime(list);
  const gcs = new Map<number, { parts: Partial<Record<'eye' | 'verbal' | 'motor', number>>; index: number; encounterId: string }>();
  const currentUnit = new Map<string, string>();

  for (const { row, index } of list) {
    const t = row.time;
    if (t === null) continue;
    const [head, a = ''] = row.code.split('//');
    const w = windowAt(t);
    if (head === 'HOSPITAL_ADMISSION') {
      const adm = admissionAt.get(t)!;
      currentUnit.set(adm.encounterId, adm.unit);
      const years = age(t);
      events.push({
        schema: 'admission',
        ...envelope(index, t, adm.encounterId),
        payload: { admissionType: adm.admissionType, unit: adm.unit, gender: patient.gender, ...(years === undefined ? {} : { age: years }) },
      });
      continue;
    }
    if (!w) {
      if (head === 'LAB' && (MIMIC_ITEMS.has(Number(a)) || MIMIC_GCS_ITEMS.has(Number(a)))) stats.outsideAdmission++;
      continue;
    }
    const encounterId = w.admission.encounterId;
    if (head === 'HOSPITAL_DISCHARGE') {
      events.push({ schema: 'discharge', ...envelope(index, t, encounterId), payload: { outcome: DISCHARGE_OUTCOMES.get(a) ?? 'other', location: category(a || 'UNKNOWN') } });
    } else if (head === 'ICU_ADMISSION') {
      const from = currentUnit.get(encounterId);
      events.push({ schema: 'transfer', ...envelope(index, t, encounterId), payload: { ...(from && from !== category(a) ? { fromUnit: from } : {}), toUnit: category(a), icu: true } });
      currentUnit.set(encounterId, category(a));
    } else if (head === 'ICU_DISCHARGE') {
      const next = transferTo.get(t);
      const toUnit = category(next && next !== 'UNK' ? next : 'ward');
      events.push({ schema: 'transfer', ...envelope(index, t, encounterId), payload: { fromUnit: category(a), toUnit, icu: false } });
      currentUnit.set(encounterId, toUnit);
    } else if (head === 'LAB') {
      const item = Number(a);
      const gcsPart = MIMIC_GCS_ITEMS.get(item);
      if (gcsPart) {
        if (row.value === null) {
          stats.withoutValue++;
          continue;
        }
        const entry = gcs.get(t) ?? { parts: {}, index, encounterId };
        entry.parts[gcsPart] = roundFloat32(row.value);
        gcs.set(t, entry);
        continue;
      }
      const signal = MIMIC_ITEMS.get(item);
      if (!signal) continue;
      if (row.value === null) {
        stats.withoutValue++;
        continue;
      }
      const raw = roundFloat32(row.value);
      if (signal.type === 'lab') {
        events.push({ schema: 'lab_result', ...envelope(index, t, encounterId), payload: { kind: signal.kind, value: raw, unit: LAB_UNITS[signal.kind], loinc: LAB_LOINC[signal.kind], itemId: item } });
        continue;
      }
      let value = raw;
      let unit = VITAL_UNITS[signal.kind];
      if (item === 223761) value = round(((raw - 32) * 5) / 9, 2);
      else if (signal.kind === 'fio2') value = raw > 1 ? round(raw / 100, 3) : raw;
      else if (signal.kind === 'temperature') unit = 'Cel';
      events.push({ schema: 'vital_sign', ...envelope(index, t, encounterId), payload: { kind: signal.kind, value, unit, ...(signal.method ? { method: signal.method } : {}) } });
      if (signal.kind === 'o2_flow' && raw > 0) {
        events.push({ schema: 'vital_sign', ...envelope(index, t, encounterId, 'o2'), payload: { kind: 'supplemental_o2', value: 1, unit: VITAL_UNITS.supplemental_o2, method: 'derived from O2 flow' } });
      }
    }
  }
  for (const [t, { parts, index, encounterId }] of gcs) {
    if (parts.eye === undefined || parts.verbal === undefined || parts.motor === undefined) {
      stats.incompleteGcs++;
      continue;
    }
    events.push({ schema: 'vital_sign', ...envelope(index, t, encounterId, 'gcs'), payload: { kind: 'gcs', value: parts.eye + parts.verbal + parts.motor, unit: VITAL_UNITS.gcs, method: 'sum of MIMIC eye, verbal, motor' } });
  }
  // The admission opens the encounter in the stream: dated at the admission time, or at the
  // encounter's first event when that came earlier (emergency department, same-day surgery).
  const first = new Map<string, number>();
  for (const { t, e } of timed) if (e.encounterId && t < (first.get(e.encounterId) ?? Infinity)) first.set(e.encounterId, t);
  for (const x of timed) {
    if (x.e.schema !== 'admission' || !x.e.encounterId) continue;
    const t = first.get(x.e.encounterId) ?? x.t;
    if (t < x.t) {
      x.t = t;
      x.e = { ...x.e, occurredAt: iso(t), producedAt: iso(t) };
    }
  }
  timed.sort((x, y) => x.t - y.t || Number(y.e.schema === 'admission') - Number(x.e.schema === 'admission'));
  return { patient, events: timed.map((x) => x.e) };
}

/** Reads and maps a MEDS parquet file (e.g. the MIMIC-IV demo). */
export async function readMeds(file: string, options: ReadMedsOptions = {}): Promise<MedsData> {
  const { rows, skipped } = usedMedsRows(await readMedsColumns(file), file, options.warn);
  const data = mapMeds(rows, options);
  data.stats.skippedRows += skipped;
  return data;
}

export interface ReplayShift {
  /** Where the first stay starts (epoch ms), usually now. */
  startMs: number;
  /** Between one patient's start and the next (default 30 min of event time). */
  staggerMinutes?: number;
  /** Longer gaps between one patient's admissions are shortened to this (default 24 h). */
  maxGapHours?: number;
}

/**
 * Moves every patient's timeline to start near `startMs` (patients staggered, gaps between
 * a patient's admissions capped), keeping each admission's internal timing exact. Returns
 * all events in event-time order.
 */
export function shiftMedsTimeline(data: MedsData, shift: ReplayShift): RawEvent[] {
  const stagger = (shift.staggerMinutes ?? 30) * 60_000;
  const maxGap = (shift.maxGapHours ?? 24) * HOUR;
  const byPatient = new Map<string, RawEvent[]>();
  for (const e of data.events) {
    const list = byPatient.get(e.patientId) ?? [];
    list.push(e);
    byPatient.set(e.patientId, list);
  }
  const out: { e: RawEvent; t: number; k: number }[] = [];
  let k = 0;
  let slot = 0;
  for (const list of byPatient.values()) {
    let offset = shift.startMs + slot++ * stagger - Date.parse(list[0]!.occurredAt);
    let previous = Date.parse(list[0]!.occurredAt);
    for (const e of list) {
      const t = Date.parse(e.occurredAt);
      if (t - previous > maxGap) offset -= t - previous - maxGap;
      previous = t;
      const at = iso(t + offset);
      out.push({ e: { ...e, occurredAt: at, producedAt: at }, t: t + offset, k: k++ });
    }
  }
  out.sort((a, b) => a.t - b.t || a.k - b.k);
  return out.map((x) => x.e);
}
