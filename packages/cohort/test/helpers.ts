import { news2, type RawEvent } from '@ehr/features';
import type { CohortEvent } from '../src/index.js';

/** NEWS2 from the last charted value of each parameter, walked in event-time order (clean events only). */
export function news2Timeline(events: readonly RawEvent[]): { t: number; score: number }[] {
  const last: Record<string, number> = {};
  const out: { t: number; score: number }[] = [];
  const sorted = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  for (const e of sorted) {
    if (e.schema !== 'vital_sign') continue;
    const p = e.payload;
    last[p.kind] = p.unit === '[degF]' ? ((p.value - 32) * 5) / 9 : p.value;
    if (p.kind !== 'heart_rate') continue;
    const avpu = last.avpu ?? 0;
    const r = news2({
      respiratoryRate: last.respiratory_rate ?? null,
      spo2: last.spo2 ?? null,
      onOxygen: last.supplemental_o2 === undefined ? null : last.supplemental_o2 === 1,
      systolicBp: last.systolic_bp ?? null,
      heartRate: last.heart_rate ?? null,
      consciousness: avpu === 0 ? 'alert' : 'new_confusion',
      temperature: last.temperature ?? null,
    });
    out.push({ t: Date.parse(e.occurredAt), score: r.total });
  }
  return out;
}

export function byPatient(records: readonly CohortEvent[]): Map<string, CohortEvent[]> {
  const map = new Map<string, CohortEvent[]>();
  for (const r of records) {
    const list = map.get(r.event.patientId) ?? [];
    list.push(r);
    map.set(r.event.patientId, list);
  }
  return map;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
