// Per-patient physiology: a baseline, a slow drift and autocorrelated noise per signal,
// plus the course's effect, which moves several signals together as severity rises and
// which treatment (oxygen, fluids, vasopressors, transfusion) partly masks.
import type { CoreLabKind as LabKind, Random } from '@ehr/features';
import { clamp } from './plan.js';
import type { CoursePlan, Demographics } from './plan.js';

export type VitalSignal = 'hr' | 'rr' | 'spo2' | 'sbp' | 'dbp' | 'temp';
const VITAL_SIGNALS: readonly VitalSignal[] = ['hr', 'rr', 'spo2', 'sbp', 'dbp', 'temp'];
const LAB_SIGNALS: readonly LabKind[] = ['wbc', 'lactate', 'creatinine', 'hemoglobin', 'platelets', 'sodium', 'potassium', 'bicarbonate', 'bilirubin', 'bun', 'glucose'];

type Effects = Partial<Record<VitalSignal | LabKind | 'gcs', number>>;

// Change at severity 1, untreated. Clinical pattern from the reference: sepsis moves RR
// and HR up, SBP down, temperature, lactate and creatinine up; respiratory failure drops
// SpO2 (then oxygen is started); bleeding raises HR, drops SBP and haemoglobin.
const EFFECTS: Record<Exclude<CoursePlan['course'], 'stable'>, Effects> = {
  sepsis: { hr: 32, rr: 9, spo2: -4, sbp: -38, dbp: -20, temp: 1.9, gcs: -3, wbc: 9, lactate: 3.5, creatinine: 1.3, platelets: -110, bilirubin: 1.6, bicarbonate: -7, bun: 18, glucose: 45, sodium: -2, potassium: 0.4, hemoglobin: -1 },
  respiratory: { hr: 25, rr: 15, spo2: -14, sbp: 4, dbp: 3, temp: 0.6, gcs: -3, wbc: 4, lactate: 1.2, creatinine: 0.3, bicarbonate: 3, glucose: 20 },
  bleeding: { hr: 42, rr: 6, spo2: -2, sbp: -42, dbp: -24, temp: -0.4, gcs: -2, hemoglobin: -4.5, lactate: 3.2, bun: 22, creatinine: 0.6, platelets: -60, bicarbonate: -5, wbc: 2, glucose: 15, potassium: 0.3 },
};

// Autocorrelated noise (minutes-to-hours) and slow drift (a day), per vital.
const VITAL_NOISE: Record<VitalSignal, { tauH: number; sd: number; driftSd: number; measureSd: number }> = {
  hr: { tauH: 1.5, sd: 4.5, driftSd: 4, measureSd: 1.5 },
  rr: { tauH: 1.5, sd: 1.3, driftSd: 1, measureSd: 0.8 },
  spo2: { tauH: 1, sd: 0.9, driftSd: 0.6, measureSd: 0.7 },
  sbp: { tauH: 2, sd: 7, driftSd: 6, measureSd: 4 },
  dbp: { tauH: 2, sd: 4, driftSd: 4, measureSd: 3 },
  temp: { tauH: 4, sd: 0.2, driftSd: 0.15, measureSd: 0.08 },
};

// Analytic variation (coefficient of variation), day-to-day drift, decimals as charted.
const LAB_NOISE: Record<LabKind, { cv: number; driftCv: number; decimals: number; min: number; max: number }> = {
  wbc: { cv: 0.06, driftCv: 0.1, decimals: 1, min: 0.3, max: 80 },
  lactate: { cv: 0.08, driftCv: 0.1, decimals: 1, min: 0.3, max: 20 },
  creatinine: { cv: 0.05, driftCv: 0.06, decimals: 1, min: 0.2, max: 15 },
  hemoglobin: { cv: 0.025, driftCv: 0.03, decimals: 1, min: 3, max: 20 },
  platelets: { cv: 0.05, driftCv: 0.08, decimals: 0, min: 5, max: 900 },
  sodium: { cv: 0.007, driftCv: 0.01, decimals: 0, min: 110, max: 170 },
  potassium: { cv: 0.03, driftCv: 0.04, decimals: 1, min: 2, max: 8 },
  bicarbonate: { cv: 0.04, driftCv: 0.04, decimals: 0, min: 5, max: 50 },
  bilirubin: { cv: 0.08, driftCv: 0.1, decimals: 1, min: 0.1, max: 30 },
  bun: { cv: 0.05, driftCv: 0.08, decimals: 0, min: 2, max: 200 },
  glucose: { cv: 0.08, driftCv: 0.1, decimals: 0, min: 30, max: 800 },
};

/** An Ornstein–Uhlenbeck process sampled exactly at increasing times (hours). */
class Ou {
  private x: number;
  private lastH: number;
  constructor(private readonly rng: Random, private readonly tauH: number, private readonly sd: number, startH: number) {
    this.x = rng.normal(0, sd);
    this.lastH = startH;
  }
  at(h: number): number {
    const dt = h - this.lastH;
    if (dt > 0) {
      const decay = Math.exp(-dt / this.tauH);
      this.x = this.x * decay + this.rng.normal(0, this.sd * Math.sqrt(1 - decay * decay));
      this.lastH = h;
    }
    return this.x;
  }
}

export interface VitalState {
  hr: number;
  rr: number;
  spo2: number;
  sbp: number;
  dbp: number;
  temp: number;
  gcs: number;
  /** 0 on room air, up to 1 at the most oxygen the ward gives. */
  oxygen: number;
}

const smoothstep = (x: number) => {
  const t = clamp(x, 0, 1);
  return t * t * (3 - 2 * t);
};

export const round = (x: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

/** The latent physiology of one patient; query at non-decreasing times (hours from admission). */
export class Physiology {
  private readonly vitalBase: Record<VitalSignal, number>;
  private readonly labBase: Record<LabKind, number>;
  private readonly fast: Record<VitalSignal, Ou>;
  private readonly slow: Record<VitalSignal, Ou>;
  private readonly labDrift: Record<LabKind, Ou>;
  private readonly effects: Effects;
  private readonly chronicOxygen: boolean;

  constructor(
    private readonly rng: Random,
    private readonly demo: Demographics,
    readonly plan: CoursePlan,
    startH: number,
  ) {
    const n = (mean: number, sd: number, lo: number, hi: number) => clamp(rng.normal(mean, sd), lo, hi);
    const logn = (median: number, sigma: number) => median * Math.exp(rng.normal(0, sigma));
    const scale2 = demo.spo2Scale === 2;
    const sbp = n(122 + 0.25 * (demo.age - 60), 16, 95, 175);
    this.vitalBase = {
      hr: n(80, 11, 55, 105),
      rr: n(16, 1.8, 12, 21),
      spo2: scale2 ? n(90.5, 1.5, 87, 93) : n(96.5, 1.3, 93.5, 99.5),
      sbp,
      dbp: Math.min(n(72, 9, 48, 100), sbp - 28),
      temp: n(36.8, 0.25, 36.1, 37.4),
    };
    const male = demo.gender === 'M';
    const creatinine = logn((male ? 1.0 : 0.8) * (demo.age > 70 ? 1.2 : 1), 0.35);
    this.labBase = {
      wbc: logn(8, 0.3),
      lactate: logn(1.1, 0.25),
      creatinine,
      hemoglobin: n(male ? 13 : 11.8, 1.6, 7.5, 17),
      platelets: n(240, 65, 90, 450),
      sodium: n(139, 2.8, 130, 146),
      potassium: n(4.1, 0.35, 3.3, 5.2),
      bicarbonate: n(scale2 ? 30 : 25, 2.2, 19, 36),
      bilirubin: logn(0.6, 0.45),
      bun: 16 * (creatinine / 0.9) ** 0.8 * Math.exp(rng.normal(0, 0.25)),
      glucose: logn(rng.chance(0.2) ? 165 : 108, 0.15),
    };
    const effects: Effects = plan.course === 'stable' ? {} : { ...EFFECTS[plan.course] };
    if (plan.hypothermic) effects.temp = -1.6;
    if (plan.leukopenic) effects.wbc = -5;
    if (plan.course === 'respiratory' && scale2) effects.bicarbonate = 6;
    this.effects = effects;
    this.chronicOxygen = scale2 ? rng.chance(0.5) : rng.chance(0.05);
    const ou = (tauH: number, sd: number) => new Ou(rng, tauH, sd, startH);
    this.fast = Object.fromEntries(VITAL_SIGNALS.map((s) => [s, ou(VITAL_NOISE[s].tauH, VITAL_NOISE[s].sd)])) as Record<VitalSignal, Ou>;
    this.slow = Object.fromEntries(VITAL_SIGNALS.map((s) => [s, ou(24, VITAL_NOISE[s].driftSd)])) as Record<VitalSignal, Ou>;
    this.labDrift = Object.fromEntries(LAB_SIGNALS.map((k) => [k, ou(48, LAB_NOISE[k].driftCv)])) as Record<LabKind, Ou>;
  }

  /** Latent severity: 0 at baseline, 1 at the deterioration event, above 1 when dying. */
  severity(h: number): number {
    const c = this.plan;
    if (c.onsetH === null || c.peakH === null || h <= c.onsetH) return 0;
    if (h <= c.peakH) return c.peakSeverity * smoothstep((h - c.onsetH) / (c.peakH - c.onsetH));
    if (c.outcome === 'died') return c.peakSeverity + 0.35 * clamp((h - c.peakH) / Math.max(0.5, c.endH - c.peakH), 0, 1);
    if (c.outcome === 'icu_transfer') return c.peakSeverity;
    return c.peakSeverity * (1 - smoothstep((h - c.peakH) / c.recoveryH));
  }

  /** Treatment intensity (fluids, antibiotics, vasopressors, transfusion), 0–1, once the team has recognised the problem. */
  treatment(h: number): number {
    const c = this.plan;
    if (c.onsetH === null || c.course === 'respiratory') return 0;
    return clamp((h - c.onsetH - c.recognitionH) / 3, 0, 1) * clamp(this.severity(h) / 0.5, 0, 1);
  }

  /** Oxygen given, 0–1: started as saturation falls, raised as it falls further. */
  oxygen(h: number): number {
    const sev = this.severity(h);
    const need = this.plan.course === 'respiratory' ? sev : this.plan.course === 'sepsis' ? sev * 0.6 : this.plan.course === 'bleeding' ? sev * 0.35 : 0;
    const given = clamp((need - 0.2) / 0.7, 0, 1);
    return this.chronicOxygen ? Math.max(0.1, given) : given;
  }

  vitals(h: number, hourOfDay: number): VitalState {
    const sev = this.severity(h);
    const treat = this.treatment(h);
    const oxygen = this.oxygen(h);
    const circadian = Math.sin((2 * Math.PI * (hourOfDay - 10)) / 24);
    const e = this.effects;
    const value = (s: VitalSignal, mask: number) =>
      this.vitalBase[s] + this.slow[s].at(h) + this.fast[s].at(h) + (e[s] ?? 0) * sev * (1 - mask);
    const hr = value('hr', 0.2 * treat) + 3 * circadian;
    const pressureMask = 0.35 * treat;
    const sbp = value('sbp', pressureMask);
    const dbp = Math.min(value('dbp', pressureMask), sbp - 15);
    // Oxygen masks most of the fall in saturation, so a rising FiO2 is the signal.
    const spo2 = Math.min(100, value('spo2', 0.65 * Math.min(1, 2 * oxygen)) + (this.chronicOxygen ? 1.5 : 0));
    const gcsDrop = (e.gcs ?? 0) * Math.max(0, (sev - 0.55) / 0.45) ** 1.2;
    return {
      hr,
      rr: value('rr', 0.1 * oxygen),
      spo2,
      sbp,
      dbp,
      temp: value('temp', 0.3 * treat) + 0.2 * circadian,
      gcs: clamp(Math.round(15 - (this.demo.chronicConfusion ? 1 : 0) + gcsDrop + this.rng.normal(0, 0.3)), 3, 15),
      oxygen,
    };
  }

  /** A lab value as resulted: labs follow severity with a lag of about two hours. */
  lab(kind: LabKind, h: number): number {
    const sev = this.severity(h - 2);
    const treat = this.treatment(h - 2);
    const noise = LAB_NOISE[kind];
    const mask = kind === 'hemoglobin' && this.plan.course === 'bleeding' ? 0.4 * treat : kind === 'lactate' ? 0.25 * treat : 0;
    const latent = this.labBase[kind] * (1 + this.labDrift[kind].at(h)) + (this.effects[kind] ?? 0) * sev * (1 - mask);
    const measured = latent * (1 + this.rng.normal(0, noise.cv));
    return round(clamp(measured, noise.min, noise.max), noise.decimals);
  }
}
