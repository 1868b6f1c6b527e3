// Medians and interquartile ranges per vital and lab: how a cohort's distributions compare
// with another's (the synthetic ward against the MIMIC-IV demo, in the README).
import { LAB_KINDS, VITAL_KINDS, type RawEvent } from '@ehr/features';

export interface Distribution {
  kind: string;
  n: number;
  p25: number;
  median: number;
  p75: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const SUMMARISED: readonly string[] = [...VITAL_KINDS.filter((k) => k !== 'avpu' && k !== 'supplemental_o2'), ...LAB_KINDS];

/** Per kind, in canonical units (°F converted to °C, FiO2 percent to a fraction). */
export function distributions(events: Iterable<RawEvent>): Distribution[] {
  const values = new Map<string, number[]>();
  for (const e of events) {
    if (e.schema !== 'vital_sign' && e.schema !== 'lab_result') continue;
    const p = e.payload;
    let v = p.value;
    if (p.kind === 'temperature' && p.unit === '[degF]') v = ((v - 32) * 5) / 9;
    if (p.kind === 'fio2' && v > 1) v /= 100;
    const list = values.get(p.kind) ?? [];
    list.push(v);
    values.set(p.kind, list);
  }
  return SUMMARISED.filter((k) => values.has(k)).map((kind) => {
    const sorted = Float64Array.from(values.get(kind)!).sort();
    return { kind, n: sorted.length, p25: quantile(sorted, 0.25), median: quantile(sorted, 0.5), p75: quantile(sorted, 0.75) };
  });
}
