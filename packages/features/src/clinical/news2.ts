// NEWS2, Royal College of Physicians (2017). Values are rounded before banding, as the
// chart is read: RR, HR, SBP and SpO2 to whole numbers, temperature to 0.1 °C.
import type { News2Band } from '../schemas/severity-score.js';
import type { Consciousness } from './signals.js';

export interface News2Input {
  respiratoryRate?: number | null;
  spo2?: number | null;
  /** 2 only when a clinician set a target of 88–92 % (hypercapnic respiratory failure). */
  spo2Scale?: 1 | 2;
  onOxygen?: boolean | null;
  systolicBp?: number | null;
  heartRate?: number | null;
  consciousness?: Consciousness | null;
  temperature?: number | null;
}

export interface News2Parts {
  respiratoryRate: number | null;
  spo2: number | null;
  airOrOxygen: number | null;
  systolicBp: number | null;
  heartRate: number | null;
  consciousness: number | null;
  temperature: number | null;
}

export interface News2Result {
  /** Sum of the parts that could be scored (a missing parameter adds nothing). */
  total: number;
  parts: News2Parts;
  band: News2Band;
  /** Parameters that were not available; a complete NEWS2 has none. */
  missing: (keyof News2Parts)[];
  complete: boolean;
}

const present = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const whole = (v: number) => Math.round(v);
// 1e-9 keeps 38.05 (stored as 38.04999…) rounding to 38.1 as a nurse would write it.
const tenth = (v: number) => Math.round(v * 10 + 1e-9) / 10;

export function respiratoryRateScore(rr: number): number {
  const r = whole(rr);
  if (r <= 8) return 3;
  if (r <= 11) return 1;
  if (r <= 20) return 0;
  if (r <= 24) return 2;
  return 3;
}

export function spo2Scale1Score(spo2: number): number {
  const s = whole(spo2);
  if (s <= 91) return 3;
  if (s <= 93) return 2;
  if (s <= 95) return 1;
  return 0;
}

export function spo2Scale2Score(spo2: number, onOxygen: boolean): number {
  const s = whole(spo2);
  if (s <= 83) return 3;
  if (s <= 85) return 2;
  if (s <= 87) return 1;
  if (s <= 92) return 0;
  // ≥93 % scores only on oxygen: on air it is simply above target.
  if (!onOxygen) return 0;
  if (s <= 94) return 1;
  if (s <= 96) return 2;
  return 3;
}

export function systolicBpScore(sbp: number): number {
  const s = whole(sbp);
  if (s <= 90) return 3;
  if (s <= 100) return 2;
  if (s <= 110) return 1;
  if (s <= 219) return 0;
  return 3;
}

export function heartRateScore(hr: number): number {
  const h = whole(hr);
  if (h <= 40) return 3;
  if (h <= 50) return 1;
  if (h <= 90) return 0;
  if (h <= 110) return 1;
  if (h <= 130) return 2;
  return 3;
}

export function temperatureScore(celsius: number): number {
  const t = tenth(celsius);
  if (t <= 35.0) return 3;
  if (t <= 36.0) return 1;
  if (t <= 38.0) return 0;
  if (t <= 39.0) return 1;
  return 2;
}

export function consciousnessScore(level: Consciousness): number {
  return level === 'alert' ? 0 : 3;
}

export function news2Band(total: number, parts: News2Parts): News2Band {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  for (const name of PART_NAMES) if (parts[name] === 3) return 'low_medium';
  return 'low';
}

/** The parts in the order `news2` builds them (and reports them missing): a loop over these, not Object.entries per vector. */
const PART_NAMES = ['respiratoryRate', 'spo2', 'airOrOxygen', 'systolicBp', 'heartRate', 'consciousness', 'temperature'] as const satisfies readonly (keyof News2Parts)[];

export function news2(input: News2Input): News2Result {
  const scale = input.spo2Scale ?? 1;
  const onOxygen = input.onOxygen ?? null;
  const parts: News2Parts = {
    respiratoryRate: present(input.respiratoryRate) ? respiratoryRateScore(input.respiratoryRate) : null,
    spo2: present(input.spo2)
      ? scale === 2
        ? spo2Scale2Score(input.spo2, onOxygen === true)
        : spo2Scale1Score(input.spo2)
      : null,
    airOrOxygen: onOxygen === null ? null : onOxygen ? 2 : 0,
    systolicBp: present(input.systolicBp) ? systolicBpScore(input.systolicBp) : null,
    heartRate: present(input.heartRate) ? heartRateScore(input.heartRate) : null,
    consciousness: input.consciousness ? consciousnessScore(input.consciousness) : null,
    temperature: present(input.temperature) ? temperatureScore(input.temperature) : null,
  };
  let total = 0;
  const missing: (keyof News2Parts)[] = [];
  for (const name of PART_NAMES) {
    const value = parts[name];
    if (value === null) missing.push(name);
    else total += value;
  }
  return { total, parts, band: news2Band(total, parts), missing, complete: missing.length === 0 };
}
