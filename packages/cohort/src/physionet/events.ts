// One PhysioNet stay → raw events on the contract: an admission (ICU admission at hour 0,
// with age, sex, ICU type and the hospital admission time), then each hour's measurements
// at `start + ICULOS h`, then a discharge an hour after the last row. Also the hour of
// every row (the times a model is scored at) and its SepsisLabel.
import { deterministicId, type RawEvent } from '@ehr/features';
import { HOUR, isDateMs, iso } from '../time.js';
import { ICULOS_COLUMN, LABEL_COLUMN, PHYSIONET_MEASUREMENTS } from './columns.js';
import type { PhysioNetTable } from './read.js';

/** Hour 0 of every stay unless told otherwise (the data has no real dates). */
export const PHYSIONET_DEFAULT_START = '2026-01-05T00:00:00Z';

export interface PhysioNetReplayOptions {
  /** Epoch ms (or RFC 3339) of the first stay's ICU admission (hour 0). Default PHYSIONET_DEFAULT_START. */
  start?: number | string;
  /** Minutes between one stay's hour 0 and the next one's (default 0: every stay starts at `start`). */
  staggerMinutes?: number;
}

export interface PhysioNetDemographics {
  age: number | null;
  gender: 'F' | 'M' | 'U';
  /** MICU, SICU, or ICU when the data does not say. */
  unit: 'MICU' | 'SICU' | 'ICU';
  /** Hours from hospital admission to ICU admission (≥ 0), when known. */
  hoursBeforeIcu: number | null;
}

export interface PhysioNetStayEvents {
  /** `physionet-<file name>`, e.g. physionet-p102001. */
  patientId: string;
  /** The Challenge's own id (the .psv file name). */
  sourceId: string;
  encounterId: string;
  /** In event-time order: admission, measurements hour by hour, discharge. */
  events: RawEvent[];
  /** Event time (epoch ms) of every row: the time its state is scored at. */
  rowTimes: Float64Array;
  /** SepsisLabel of every row (null when the data has no labels). */
  labels: Uint8Array | null;
  demographics: PhysioNetDemographics;
}

export const physionetPatientId = (sourceId: string) => `physionet-${sourceId}`;

const firstValue = (a: Float64Array, start: number, end: number): number => {
  for (let i = start; i < end; i++) if (!Number.isNaN(a[i]!)) return a[i]!;
  return NaN;
};


export function stayStartMs(index: number, options: PhysioNetReplayOptions = {}): number {
  const start = options.start ?? PHYSIONET_DEFAULT_START;
  const base = typeof start === 'number' ? start : Date.parse(start);
  if (!isDateMs(base)) throw new Error(`PhysioNet replay start is not a time: ${String(start)}`);
  const ms = base + index * (options.staggerMinutes ?? 0) * 60_000;
  if (!isDateMs(ms)) throw new Error(`PhysioNet replay: stay ${index} would start at ${ms} ms, not a time (start ${String(start)}, stagger ${String(options.staggerMinutes)} min)`);
  return ms;
}

export function stayDemographics(table: PhysioNetTable, index: number): PhysioNetDemographics {
  const { start, end } = table.stays[index]!;
  const col = (name: string) => firstValue(table.columns.get(name)!, start, end);
  const age = col('Age');
  const gender = col('Gender');
  const hosp = col('HospAdmTime');
  return {
    age: Number.isNaN(age) ? null : age,
    gender: gender === 1 ? 'M' : gender === 0 ? 'F' : 'U',
    unit: col('Unit1') === 1 ? 'MICU' : col('Unit2') === 1 ? 'SICU' : 'ICU',
    // HospAdmTime is negative (hospital admission before the ICU); a positive one is treated as 0.
    hoursBeforeIcu: Number.isNaN(hosp) ? null : Math.max(0, -hosp),
  };
}

/** Row times: start + ICULOS hours (a missing ICULOS continues an hour after the previous row). */
export function stayRowTimes(table: PhysioNetTable, index: number, startMs: number): Float64Array {
  const { start, end, patientId } = table.stays[index]!;
  const iculos = table.columns.get(ICULOS_COLUMN)!;
  const out = new Float64Array(end - start);
  let previous = 0;
  for (let r = 0; r < out.length; r++) {
    const h = iculos[start + r]!;
    const hours = Number.isNaN(h) ? (r === 0 ? 1 : previous + 1) : h;
    out[r] = startMs + hours * HOUR;
    if (!isDateMs(out[r]!)) throw new Error(`PhysioNet stay ${patientId}, row ${r + 1}: ICULOS ${h} from ${startMs} ms is not a time`);
    previous = hours;
  }
  return out;
}

export function stayEvents(table: PhysioNetTable, index: number, options: PhysioNetReplayOptions = {}): PhysioNetStayEvents {
  const stay = table.stays[index]!;
  const { start, end } = stay;
  const patientId = physionetPatientId(stay.patientId);
  const encounterId = `${patientId}-icu`;
  const t0 = stayStartMs(index, options);
  const demographics = stayDemographics(table, index);
  const hospitalAdmit = demographics.hoursBeforeIcu === null ? null : Math.round(t0 - demographics.hoursBeforeIcu * HOUR);
  if (hospitalAdmit !== null && !isDateMs(hospitalAdmit)) throw new Error(`PhysioNet stay ${stay.patientId}: HospAdmTime ${-demographics.hoursBeforeIcu!} h before ${t0} ms is not a time`);
  const rowTimes = stayRowTimes(table, index, t0);
  // One hash per stay, then `<stay id>:<row>:<column>`: deterministic and unique without a
  // sha256 per event (which cost more than the rest of the mapping), and no patient id in clear.
  const stayId = deterministicId('physionet', stay.patientId);
  const envelope = (t: number, ...part: (string | number)[]) => {
    const at = iso(t);
    return { schemaVersion: 1 as const, eventId: `${stayId}:${part.join(':')}`, patientId, encounterId, occurredAt: at, producedAt: at, source: 'physionet' as const };
  };
  const events: RawEvent[] = [];
  events.push({
    schema: 'admission',
    ...envelope(t0, 'admission'),
    payload: {
      admissionType: 'unknown',
      unit: demographics.unit,
      ...(demographics.unit === 'MICU' ? { department: 'medicine' } : demographics.unit === 'SICU' ? { department: 'surgery' } : {}),
      gender: demographics.gender,
      ...(demographics.age === null ? {} : { age: demographics.age }),
      ...(hospitalAdmit === null ? {} : { hospitalAdmitTime: iso(hospitalAdmit) }),
    },
  });
  const columns = PHYSIONET_MEASUREMENTS.map((m) => ({ m, values: table.columns.get(m.column)! }));
  for (let r = 0; r < end - start; r++) {
    const t = rowTimes[r]!;
    for (const { m, values } of columns) {
      const v = values[start + r]!;
      if (Number.isNaN(v)) continue;
      const base = envelope(t, r, m.column);
      events.push(m.type === 'vital' ? { schema: 'vital_sign', ...base, payload: { kind: m.kind, value: v, unit: m.unit } } : { schema: 'lab_result', ...base, payload: { kind: m.kind, value: v, unit: m.unit } });
    }
  }
  const last = rowTimes.length > 0 ? rowTimes[rowTimes.length - 1]! : t0;
  events.push({ schema: 'discharge', ...envelope(last + HOUR, 'discharge'), payload: { outcome: 'other', location: 'UNKNOWN' } });
  let labels: Uint8Array | null = null;
  if (table.hasLabels) {
    const y = table.columns.get(LABEL_COLUMN)!;
    labels = Uint8Array.from({ length: end - start }, (_, r) => (y[start + r] === 1 ? 1 : 0));
  }
  return { patientId, sourceId: stay.patientId, encounterId, events, rowTimes, labels, demographics };
}

/** Every stay's events, one stay after another (each stay's in time order). */
export function* physionetStays(table: PhysioNetTable, options: PhysioNetReplayOptions & { stays?: readonly number[] } = {}): Generator<PhysioNetStayEvents> {
  const indices = options.stays ?? table.stays.map((_, i) => i);
  for (const i of indices) yield stayEvents(table, i, options);
}
