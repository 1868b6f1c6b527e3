// The evaluation a clinical reviewer asks for, on patients the model never saw: the model,
// NEWS2 and qSOFA on the same rows, per scored hour and per stay (stay score = its maximum,
// stay label = ever positive), with patient-bootstrap intervals; the Challenge's utility;
// operating points at NEWS2's alert rates — the model's own band, and the band the ward is
// served (never calmer than NEWS2's tier) — calibration; subgroups.
import { auprc, auroc, bandOf, brierScore, expectedCalibrationError, median, round4 as r4 } from '@ehr/model';
import { createRandom, NEWS2_PART_FEATURES, news2Tier, news2TierOf, servedBand, type FeatureValues, type SeverityBand } from '@ehr/features';
import { LABEL_LEAD_HOURS, normalizedUtility, rowUtilities, type RowUtilities } from './challenge-utility.js';
import { equalCountBins, weightedRanking, type Interval } from './evaluate.js';

export interface Scorer {
  name: string;
  /** Higher = more at risk, one per row. */
  score: ArrayLike<number>;
}

export interface Subgroup {
  /** e.g. "sex". */
  name: string;
  /** The subgroup value of each patient (index → label), e.g. "F". */
  of: (patient: number) => string;
  /** Order of the values in the table (others after, alphabetically). */
  order?: readonly string[];
}

export interface ClinicalEvaluationInput {
  y: ArrayLike<number>;
  patientOf: ArrayLike<number>;
  /** Hour index of each row within its stay (Challenge time), when the data is hourly; null: no utility or lead times. */
  hourOf: ArrayLike<number> | null;
  /** The model's reported probability. */
  probability: ArrayLike<number>;
  news2: ArrayLike<number>;
  qsofa: ArrayLike<number>;
  /** The model's alarm threshold (chosen on validation patients, stored in the artifact). */
  alarmThreshold: number | null;
  /** Model thresholds matched on validation to NEWS2 ≥ 5's and NEWS2 ≥ 7's alert rates. */
  bands: { medium: number; high: number } | null;
  /**
   * NEWS2 of row i as a feature vector carries it (`news2_total` and the `news2_*` parameter
   * points, null when not measured; news2FeaturesOf reads them from a feature matrix). With
   * `bands`, each row's served band — servedBand of @ehr/features, as the scoring service
   * computes it: the model's band, never calmer than NEWS2's response tier — is evaluated
   * beside the model's own band. Without it, no served figures (`served` and `servedBand` null).
   */
  news2Features?: ((row: number) => Readonly<FeatureValues>) | null;
  subgroups?: readonly Subgroup[];
  bootstrap?: number;
  seed?: number;
  /** Hours before onset an alert still counts for the lead time (default 48). */
  leadWindowHours?: number;
}

export interface Discrimination {
  auroc: number;
  auprc: number;
  ci: { auroc: Interval; auprc: Interval } | null;
}

export interface OperatingStats {
  label: string;
  /** On the rule's score: a probability, NEWS2 or qSOFA points; for the served band its rank (1 = medium, 2 = high). */
  threshold: number;
  /** Share of scored hours flagged. */
  alertRate: number;
  sensitivity: number;
  ppv: number;
  /** Flagged hours per 24 scored hours. */
  alertHoursPerPatientDay: number;
  /** Starts of a flagged run (a new alert) per 24 scored hours. */
  newAlertsPerPatientDay: number;
  /** Stays with an event alerted within the lead window before onset, of those with an event. */
  staysAlertedBeforeOnset: number;
  eventStays: number;
  /** Median hours from the first alert (within the window) to onset; null without hourly data. */
  medianLeadHours: number | null;
  /** Normalised Challenge utility of these alarms (null without hourly data). */
  utility: number | null;
  utilityCi: Interval | null;
}

export interface OperatingPoint {
  budget: string;
  news2: OperatingStats;
  /** The model's own band, before the NEWS2 floor: no ward is served this. */
  model: OperatingStats;
  /** The served band, what the ward sees (the model's band never calmer than NEWS2's tier). */
  served: OperatingStats | null;
}

/** Hours whose served band is above the model's own: NEWS2's response tier set it. */
export interface ServedFloor {
  /** Served band above the model's band. */
  hoursRaised: number;
  /** Of all scored hours. */
  shareRaised: number;
  lowToMedium: number;
  lowToHigh: number;
  mediumToHigh: number;
  /** Raised hours that only a single parameter scoring 3 raised (the aggregate alone would not have). */
  bySingleParameterThree: number;
  servedHours: Record<SeverityBand, number>;
  modelHours: Record<SeverityBand, number>;
}

export interface ServedBands {
  /** The model's band of each row, as a rank (0 low, 1 medium, 2 high). */
  model: Uint8Array;
  /** The served band of each row (same ranks). */
  served: Uint8Array;
  floor: ServedFloor;
}

const RANK: Readonly<Record<SeverityBand, number>> = { low: 0, medium: 1, high: 2 };

/**
 * Each row's band as the scoring service serves it: `servedBand({ modelBand, probability,
 * news2: news2TierOf(features) })` of @ehr/features, with the model's band from its thresholds.
 */
export function servedBandsOf(probability: ArrayLike<number>, bands: { medium: number; high: number }, news2Features: (row: number) => Readonly<FeatureValues>): ServedBands {
  const n = probability.length;
  const model = new Uint8Array(n);
  const served = new Uint8Array(n);
  const floor: ServedFloor = { hoursRaised: 0, shareRaised: 0, lowToMedium: 0, lowToHigh: 0, mediumToHigh: 0, bySingleParameterThree: 0, servedHours: { low: 0, medium: 0, high: 0 }, modelHours: { low: 0, medium: 0, high: 0 } };
  for (let i = 0; i < n; i++) {
    const p = probability[i]!;
    const modelBand = bandOf(p, bands);
    const tier = news2TierOf(news2Features(i));
    const s = servedBand({ modelBand, probability: p, news2: tier });
    model[i] = RANK[modelBand];
    served[i] = RANK[s.band];
    floor.modelHours[modelBand]++;
    floor.servedHours[s.band]++;
    if (served[i]! > model[i]!) {
      floor.hoursRaised++;
      if (modelBand === 'medium') floor.mediumToHigh++;
      else if (s.band === 'high') floor.lowToHigh++;
      else floor.lowToMedium++;
      // The tier without its parameters at 3 would not have raised it.
      if (RANK[news2Tier(tier.total).band] <= model[i]!) floor.bySingleParameterThree++;
    }
  }
  floor.shareRaised = r4(n > 0 ? floor.hoursRaised / n : NaN);
  return { model, served, floor };
}

export interface CalibrationFit {
  /** Logistic recalibration y ~ intercept + slope · logit(p): slope 1, intercept 0 is perfect. */
  slope: number;
  intercept: number;
  ece: number;
  brier: number;
  reliability: { meanPredicted: number; fractionPositive: number; count: number }[];
}

export interface SubgroupRow {
  group: string;
  value: string;
  patients: number;
  rows: number;
  positives: number;
  model: Discrimination;
  news2: Discrimination;
}

/** Discrimination on a subset of the evaluated rows, the same resamples as every other interval. */
export interface SubsetDiscrimination {
  /** Which rows, in words. */
  rule: string;
  rows: number;
  patients: number;
  positives: number;
  /** Stays with a positive row in the subset. */
  eventPatients: number;
  /** Evaluated rows not in the subset. */
  rowsLeftOut: number;
  model: Discrimination;
  news2: Discrimination;
  qsofa: Discrimination;
  /** Model − NEWS2 AUROC on the subset, paired over the same patient resamples. */
  aurocDifference: { value: number; ci: Interval | null };
}

/**
 * The NEWS2 parameters a row must have measured to be in `completeNews2`: all but consciousness
 * (PhysioNet records no GCS, so consciousness is missing on every hour).
 */
export const NEWS2_OBSERVED_PARTS: readonly string[] = NEWS2_PART_FEATURES.map(([name]) => name).filter((name) => name !== 'news2_consciousness');

export const PRE_ONSET_RULE = `before onset: rows of stays never labelled, and rows of septic stays strictly before onset (onset = first positive label + ${LABEL_LEAD_HOURS} h, as the Challenge utility has it); septic stays' rows from onset on left out`;
export const COMPLETE_NEWS2_RULE = `NEWS2 complete but consciousness: rows with every NEWS2 parameter but consciousness measured (${NEWS2_OBSERVED_PARTS.join(', ')} not null)`;

export interface ClinicalEvaluation {
  rows: number;
  patients: number;
  positives: number;
  eventPatients: number;
  patientDays: number;
  hourly: Record<'model' | 'news2' | 'qsofa', Discrimination>;
  stay: Record<'model' | 'news2' | 'qsofa', Discrimination>;
  /** Model − NEWS2 hourly AUROC, paired over the same resamples. */
  aurocDifference: { value: number; ci: Interval | null };
  /** Model at its alarm threshold, NEWS2 ≥ 5 and ≥ 7, qSOFA ≥ 2. */
  alarms: OperatingStats[];
  /**
   * At NEWS2 ≥ 5's and NEWS2 ≥ 7's alert rates: NEWS2; the model's own band (≥ medium, = high)
   * before the NEWS2 floor; and `served`, the band the ward sees (served band ≥ medium, = high;
   * null without `news2Features`).
   */
  operatingPoints: OperatingPoint[];
  /** How often NEWS2's floor raised the model's band (null without `news2Features` or bands). */
  servedBand: ServedFloor | null;
  calibration: CalibrationFit;
  subgroups: SubgroupRow[];
  bootstrap: { resamples: number; unit: 'patient'; seed: number };
  leadWindowHours: number;
  /**
   * Prediction, not detection: the rows before each septic stay's onset (PRE_ONSET_RULE; null
   * without hourly data). The label is positive from 6 h before onset to the end of the stay, so
   * the per-row figures above mix hours before onset with hours at and after it.
   */
  preOnset: SubsetDiscrimination | null;
  /**
   * NEWS2 not handicapped by missing parameters (a missing part adds 0): the rows with every
   * parameter but consciousness measured (COMPLETE_NEWS2_RULE; null without `news2Features`).
   */
  completeNews2: SubsetDiscrimination | null;
}

function percentileInterval(values: number[]): Interval {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const q = (f: number) => {
    if (s.length === 0) return NaN;
    const pos = (s.length - 1) * f;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { low: r4(q(0.025)), high: r4(q(0.975)) };
}

interface Sorted {
  order: Uint32Array;
  groupEnd: Uint8Array;
}
function sortDesc(p: ArrayLike<number>): Sorted {
  const order = Uint32Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  const groupEnd = new Uint8Array(p.length);
  for (let k = 0; k < order.length; k++) groupEnd[k] = k + 1 === order.length || p[order[k + 1]!] !== p[order[k]!] ? 1 : 0;
  return { order, groupEnd };
}

const safe = (f: () => number) => {
  try {
    return r4(f());
  } catch {
    return NaN;
  }
};

/** Logistic recalibration by Newton's method (two parameters). */
export function calibrationSlope(y: ArrayLike<number>, p: ArrayLike<number>): { slope: number; intercept: number } {
  const n = y.length;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = Math.min(1 - 1e-6, Math.max(1e-6, p[i]!));
    x[i] = Math.log(q / (1 - q));
  }
  let a = 0;
  let b = 1;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < n; i++) {
      const m = 1 / (1 + Math.exp(-(a + b * x[i]!)));
      const r = y[i]! - m;
      const w = m * (1 - m);
      ga += r;
      gb += r * x[i]!;
      haa += w;
      hab += w * x[i]!;
      hbb += w * x[i]! * x[i]!;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { slope: r4(b), intercept: r4(a) };
}

/** Rows of each patient, in row order. */
function rowsByPatient(patientOf: ArrayLike<number>): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 0; i < patientOf.length; i++) {
    const p = patientOf[i]!;
    const list = m.get(p);
    if (list) list.push(i);
    else m.set(p, [i]);
  }
  return m;
}

export function evaluateClinically(input: ClinicalEvaluationInput): ClinicalEvaluation {
  const { y, patientOf, hourOf, probability } = input;
  const n = y.length;
  for (const [name, a] of [['probability', probability], ['news2', input.news2], ['qsofa', input.qsofa], ['patientOf', patientOf]] as const) {
    if (a.length !== n) throw new RangeError(`evaluation: ${name} has ${a.length} values for ${n} rows`);
  }
  const leadWindow = input.leadWindowHours ?? 48;
  const byPatient = rowsByPatient(patientOf);
  const patients = [...byPatient.keys()].sort((a, b) => a - b);
  const scorers: Record<'model' | 'news2' | 'qsofa', ArrayLike<number>> = { model: probability, news2: input.news2, qsofa: input.qsofa };
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i] === 1 ? 1 : 0;

  // Stay level: one value per patient.
  const stayY = new Uint8Array(patients.length);
  const stayScore = { model: new Float64Array(patients.length), news2: new Float64Array(patients.length), qsofa: new Float64Array(patients.length) };
  patients.forEach((p, k) => {
    for (const i of byPatient.get(p)!) {
      if (y[i] === 1) stayY[k] = 1;
      for (const s of ['model', 'news2', 'qsofa'] as const) {
        const v = scorers[s][i]!;
        if (v > stayScore[s][k]! || byPatient.get(p)![0] === i) stayScore[s][k] = v;
      }
    }
  });
  const eventPatients = stayY.reduce((a, b) => a + b, 0);

  const utilities: RowUtilities | null = hourOf ? rowUtilities(y, patientOf, hourOf) : null;
  const onsets = hourOf ? onsetHours(y, patientOf, hourOf) : null;

  // The subsets: rows before onset; rows with NEWS2 complete but consciousness.
  const subsetMasks: { key: 'preOnset' | 'completeNews2'; rule: string; rows: Uint8Array }[] = [];
  if (hourOf && onsets) subsetMasks.push({ key: 'preOnset', rule: PRE_ONSET_RULE, rows: preOnsetRows(patientOf, hourOf, onsets) });
  if (input.news2Features) subsetMasks.push({ key: 'completeNews2', rule: COMPLETE_NEWS2_RULE, rows: completeNews2Rows(n, input.news2Features) });

  // Alarms at fixed thresholds and the rate-matched operating points; each rule's score kept
  // for its bootstrap utility.
  const scoreOf = new Map<OperatingStats, ArrayLike<number>>();
  const opAt = (label: string, score: ArrayLike<number>, threshold: number): OperatingStats => {
    const o = operating(label, y, score, threshold, byPatient, hourOf, onsets, utilities, leadWindow);
    scoreOf.set(o, score);
    return o;
  };
  const alarms: OperatingStats[] = [];
  if (input.alarmThreshold !== null) alarms.push(opAt('model at its alarm threshold (best utility on validation)', probability, input.alarmThreshold));
  alarms.push(opAt('NEWS2 ≥ 5', input.news2, 5), opAt('NEWS2 ≥ 7', input.news2, 7), opAt('qSOFA ≥ 2', input.qsofa, 2));
  const served = input.bands && input.news2Features ? servedBandsOf(probability, input.bands, input.news2Features) : null;
  const operatingPoints: OperatingPoint[] = input.bands
    ? [
        {
          budget: 'alert rate of NEWS2 ≥ 5 (medium band)',
          news2: opAt('NEWS2 ≥ 5', input.news2, 5),
          model: opAt('model ≥ medium threshold (the model alone, before the NEWS2 floor)', probability, input.bands.medium),
          served: served ? opAt("served band ≥ medium (what the ward sees: the model's band, never below NEWS2's tier)", served.served, RANK.medium) : null,
        },
        {
          budget: 'alert rate of NEWS2 ≥ 7 (high band)',
          news2: opAt('NEWS2 ≥ 7', input.news2, 7),
          model: opAt('model ≥ high threshold (the model alone, before the NEWS2 floor)', probability, input.bands.high),
          served: served ? opAt("served band = high (what the ward sees: the model's band, never below NEWS2's tier)", served.served, RANK.high) : null,
        },
      ]
    : [];

  // Point estimates.
  const point = (yy: ArrayLike<number>, s: ArrayLike<number>): Discrimination => ({ auroc: safe(() => auroc(yy, s)), auprc: safe(() => auprc(yy, s)), ci: null });
  const hourly = { model: point(y, probability), news2: point(y, input.news2), qsofa: point(y, input.qsofa) };
  const stay = { model: point(stayY, stayScore.model), news2: point(stayY, stayScore.news2), qsofa: point(stayY, stayScore.qsofa) };

  // Subgroups (patients by value).
  const groupRows: { group: string; value: string; rows: Uint8Array; stays: Uint8Array }[] = [];
  for (const g of input.subgroups ?? []) {
    const values = new Map<string, { rows: Uint8Array; stays: Uint8Array }>();
    patients.forEach((p, k) => {
      const v = g.of(p);
      let entry = values.get(v);
      if (!entry) values.set(v, (entry = { rows: new Uint8Array(n), stays: new Uint8Array(patients.length) }));
      entry.stays[k] = 1;
      for (const i of byPatient.get(p)!) entry.rows[i] = 1;
    });
    const rank = (v: string) => {
      const k = g.order?.indexOf(v) ?? -1;
      return k < 0 ? Infinity : k;
    };
    for (const [value, e] of [...values].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))) groupRows.push({ group: g.name, value, ...e });
  }

  // Patient bootstrap: every statistic on the same resamples.
  const resamples = input.bootstrap ?? 200;
  const seed = input.seed ?? 0;
  const acc = new Map<string, number[]>();
  const push = (k: string, v: number) => {
    const list = acc.get(k);
    if (list) list.push(v);
    else acc.set(k, [v]);
  };
  if (resamples > 0) {
    const sorted = { model: sortDesc(probability), news2: sortDesc(input.news2), qsofa: sortDesc(input.qsofa) };
    const staySorted = { model: sortDesc(stayScore.model), news2: sortDesc(stayScore.news2), qsofa: sortDesc(stayScore.qsofa) };
    const rng = createRandom(seed >>> 0).fork('clinical-bootstrap');
    const w = new Float64Array(n);
    const sw = new Float64Array(patients.length);
    const gw = new Float64Array(n);
    // Per-patient utility parts of every alarm rule, for resampled sums.
    const rules = [...alarms, ...operatingPoints.flatMap((o) => (o.served ? [o.news2, o.model, o.served] : [o.news2, o.model]))];
    const ruleScores = rules.map((r) => scoreOf.get(r)!);
    const parts = utilities
      ? rules.map((r, k) => patients.map((p) => {
          let obs = 0;
          let none = 0;
          for (const i of byPatient.get(p)!) {
            obs += ruleScores[k]![i]! >= r.threshold ? utilities.ifAlarm[i]! : utilities.ifSilent[i]!;
            none += utilities.ifSilent[i]!;
          }
          return { obs, best: bestOfPatient(byPatient.get(p)!, utilities, onsets!.get(p)!, hourOf!), none };
        }))
      : null;
    for (let b = 0; b < resamples; b++) {
      w.fill(0);
      sw.fill(0);
      for (let k = 0; k < patients.length; k++) {
        const pick = Math.floor(rng.next() * patients.length);
        sw[pick]!++;
        for (const i of byPatient.get(patients[pick]!)!) w[i]!++;
      }
      const m = weightedRanking(sorted.model, y, w);
      for (const s of ['model', 'news2', 'qsofa'] as const) {
        const r = s === 'model' ? m : weightedRanking(sorted[s], y, w);
        push(`hourly.${s}.auroc`, r.auroc);
        push(`hourly.${s}.auprc`, r.auprc);
        if (s === 'news2') push('diff', m.auroc - r.auroc);
        const st = weightedRanking(staySorted[s], stayY, sw);
        push(`stay.${s}.auroc`, st.auroc);
        push(`stay.${s}.auprc`, st.auprc);
      }
      for (const sub of subsetMasks) {
        for (let i = 0; i < n; i++) gw[i] = sub.rows[i] ? w[i]! : 0;
        const sm = weightedRanking(sorted.model, y, gw);
        for (const s of ['model', 'news2', 'qsofa'] as const) {
          const r = s === 'model' ? sm : weightedRanking(sorted[s], y, gw);
          push(`${sub.key}.${s}.auroc`, r.auroc);
          push(`${sub.key}.${s}.auprc`, r.auprc);
          if (s === 'news2') push(`${sub.key}.diff`, sm.auroc - r.auroc);
        }
      }
      groupRows.forEach((g, k) => {
        for (let i = 0; i < n; i++) gw[i] = g.rows[i] ? w[i]! : 0;
        const gm = weightedRanking(sorted.model, y, gw);
        const gn = weightedRanking(sorted.news2, y, gw);
        push(`group.${k}.model.auroc`, gm.auroc);
        push(`group.${k}.model.auprc`, gm.auprc);
        push(`group.${k}.news2.auroc`, gn.auroc);
        push(`group.${k}.news2.auprc`, gn.auprc);
      });
      if (parts) {
        parts.forEach((list, k) => {
          let obs = 0;
          let best = 0;
          let none = 0;
          for (let j = 0; j < patients.length; j++) {
            const c = sw[j]!;
            if (c === 0) continue;
            obs += c * list[j]!.obs;
            best += c * list[j]!.best;
            none += c * list[j]!.none;
          }
          push(`utility.${k}`, (obs - none) / (best - none));
        });
      }
    }
    const ci = (k: string) => percentileInterval(acc.get(k) ?? []);
    for (const s of ['model', 'news2', 'qsofa'] as const) {
      hourly[s].ci = { auroc: ci(`hourly.${s}.auroc`), auprc: ci(`hourly.${s}.auprc`) };
      stay[s].ci = { auroc: ci(`stay.${s}.auroc`), auprc: ci(`stay.${s}.auprc`) };
    }
    if (parts) rules.forEach((r, k) => (r.utilityCi = ci(`utility.${k}`)));
  }
  const subgroups: SubgroupRow[] = groupRows.map((g, k) => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (g.rows[i]) idx.push(i);
    const gy = idx.map((i) => y[i]!);
    const ci = (key: string) => (acc.has(key) ? percentileInterval(acc.get(key)!) : null);
    const disc = (s: 'model' | 'news2'): Discrimination => {
      const lo = ci(`group.${k}.${s}.auroc`);
      const lp = ci(`group.${k}.${s}.auprc`);
      return { auroc: safe(() => auroc(gy, idx.map((i) => scorers[s][i]!))), auprc: safe(() => auprc(gy, idx.map((i) => scorers[s][i]!))), ci: lo && lp ? { auroc: lo, auprc: lp } : null };
    };
    return { group: g.group, value: g.value, patients: g.stays.reduce((a, b) => a + b, 0), rows: idx.length, positives: gy.reduce((a, b) => a + b, 0), model: disc('model'), news2: disc('news2') };
  });
  const subsets: Record<'preOnset' | 'completeNews2', SubsetDiscrimination | null> = { preOnset: null, completeNews2: null };
  for (const sub of subsetMasks) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (sub.rows[i]) idx.push(i);
    const sy = idx.map((i) => y[i]!);
    const ci = (key: string) => (acc.has(key) ? percentileInterval(acc.get(key)!) : null);
    const disc = (s: 'model' | 'news2' | 'qsofa'): Discrimination => {
      const sc = idx.map((i) => scorers[s][i]!);
      const lo = ci(`${sub.key}.${s}.auroc`);
      const lp = ci(`${sub.key}.${s}.auprc`);
      return { auroc: safe(() => auroc(sy, sc)), auprc: safe(() => auprc(sy, sc)), ci: lo && lp ? { auroc: lo, auprc: lp } : null };
    };
    const model = disc('model');
    const news2 = disc('news2');
    const stays = new Set(idx.map((i) => patientOf[i]!));
    const eventStays = new Set(idx.filter((i) => y[i] === 1).map((i) => patientOf[i]!));
    subsets[sub.key] = {
      rule: sub.rule,
      rows: idx.length,
      patients: stays.size,
      positives: sy.reduce((a, b) => a + b, 0),
      eventPatients: eventStays.size,
      rowsLeftOut: n - idx.length,
      model,
      news2,
      qsofa: disc('qsofa'),
      aurocDifference: { value: r4(model.auroc - news2.auroc), ci: ci(`${sub.key}.diff`) },
    };
  }
  const cal = calibrationSlope(y, probability);
  return {
    rows: n,
    patients: patients.length,
    positives,
    eventPatients,
    patientDays: r4(n / 24),
    hourly,
    stay,
    aurocDifference: { value: r4(hourly.model.auroc - hourly.news2.auroc), ci: acc.has('diff') ? percentileInterval(acc.get('diff')!) : null },
    alarms,
    operatingPoints,
    servedBand: served ? served.floor : null,
    calibration: { ...cal, ece: safe(() => expectedCalibrationError(y, probability)), brier: safe(() => brierScore(y, probability)), reliability: equalCountBins(y, probability, 10) },
    subgroups,
    bootstrap: { resamples, unit: 'patient', seed },
    leadWindowHours: leadWindow,
    preOnset: subsets.preOnset,
    completeNews2: subsets.completeNews2,
  };
}

/**
 * Rows before onset (1 = kept): every row of a stay never labelled, and a septic stay's rows at
 * hours strictly before its onset (first positive label + LABEL_LEAD_HOURS, as `onsetHours` and
 * the Challenge utility define it). The positive rows kept are those of the 6 h the label leads
 * onset by; a septic stay's rows from onset on (detection, not prediction) are left out.
 */
function preOnsetRows(patientOf: ArrayLike<number>, hourOf: ArrayLike<number>, onsets: ReadonlyMap<number, number>): Uint8Array {
  const keep = new Uint8Array(patientOf.length);
  for (let i = 0; i < patientOf.length; i++) keep[i] = hourOf[i]! < onsets.get(patientOf[i]!)! ? 1 : 0;
  return keep;
}

/** Rows (1 = kept) whose NEWS2 parameters NEWS2_OBSERVED_PARTS are all measured (a number, not null). */
function completeNews2Rows(n: number, news2Features: (row: number) => Readonly<FeatureValues>): Uint8Array {
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const f = news2Features(i);
    keep[i] = NEWS2_OBSERVED_PARTS.every((name) => typeof f[name] === 'number' && Number.isFinite(f[name])) ? 1 : 0;
  }
  return keep;
}

/** Onset hour (first label + 6) per patient, Infinity when never positive. */
function onsetHours(y: ArrayLike<number>, patientOf: ArrayLike<number>, hourOf: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < y.length; i++) {
    const p = patientOf[i]!;
    if (!m.has(p)) m.set(p, Infinity);
    if (y[i] === 1) m.set(p, Math.min(m.get(p)!, hourOf[i]! + LABEL_LEAD_HOURS));
  }
  return m;
}

/** One patient's best-case utility (alarms from t_s − 12 to t_s + 3 when septic). */
function bestOfPatient(rows: readonly number[], u: RowUtilities, ts: number, hourOf: ArrayLike<number>): number {
  let best = 0;
  for (const i of rows) {
    const t = hourOf[i]!;
    best += Number.isFinite(ts) && t >= ts - 12 && t <= ts + 3 ? u.ifAlarm[i]! : u.ifSilent[i]!;
  }
  return best;
}

function operating(
  label: string,
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  threshold: number,
  byPatient: Map<number, number[]>,
  hourOf: ArrayLike<number> | null,
  onsets: Map<number, number> | null,
  utilities: RowUtilities | null,
  leadWindow: number,
): OperatingStats {
  let flagged = 0;
  let tp = 0;
  let pos = 0;
  let starts = 0;
  let alerted = 0;
  let eventStays = 0;
  const leads: number[] = [];
  for (const [p, rows] of byPatient) {
    let previous = false;
    let stayPositive = false;
    for (const i of rows) {
      const f = score[i]! >= threshold;
      if (f) flagged++;
      if (f && !previous) starts++;
      previous = f;
      if (y[i] === 1) {
        pos++;
        stayPositive = true;
        if (f) tp++;
      }
    }
    if (!stayPositive) continue;
    eventStays++;
    if (!hourOf || !onsets) continue;
    const ts = onsets.get(p)!;
    for (const i of rows) {
      const t = hourOf[i]!;
      if (t < ts - leadWindow || t > ts) continue;
      if (score[i]! >= threshold) {
        alerted++;
        leads.push(ts - t);
        break;
      }
    }
  }
  const n = y.length;
  return {
    label,
    threshold,
    alertRate: r4(flagged / n),
    sensitivity: r4(pos > 0 ? tp / pos : NaN),
    ppv: r4(flagged > 0 ? tp / flagged : NaN),
    alertHoursPerPatientDay: r4((flagged / n) * 24),
    newAlertsPerPatientDay: r4((starts / n) * 24),
    staysAlertedBeforeOnset: alerted,
    eventStays,
    medianLeadHours: hourOf ? median(leads) : null,
    utility: utilities ? r4(normalizedUtility(utilities, (i) => score[i]! >= threshold).normalized) : null,
    utilityCi: null,
  };
}
