// The feature list: one entry per feature, in vector order, with what a reader needs to
// trust it. FEATURES.md is generated from this (a test keeps them equal), and
// FEATURE_SET_VERSION must change whenever a name, an order or a definition changes.
import { EXTENDED_LAB_KINDS, LAB_UNITS, VITAL_UNITS, type LabKind, type VitalKind } from '../clinical/signals.js';
import { RISK_CATEGORIES, RISK_TERMS } from '../text/lexicon.js';
import { ADMISSION_TYPE_CODES, DEPARTMENT_CODES, describeCodes, EVENT_TYPE_CODES, GENDER_CODES, UNIT_CODES } from './categories.js';

export const FEATURE_SET_VERSION = '2.1.0';

export interface FeatureSpec {
  name: string;
  unit: string;
  definition: string;
  window: string;
  missing: string;
}

/** Vitals with the full set: last, time since, count, and min/max/delta/slope over 1 h, 6 h, 24 h. */
export const WINDOWED_VITALS = ['heart_rate', 'respiratory_rate', 'spo2', 'systolic_bp', 'diastolic_bp', 'temperature'] as const satisfies readonly VitalKind[];
/** Labs: last, time since, count, min/max/delta over 24 h (drawn every 9–12 h: shorter windows hold at most one value). */
export const WINDOWED_LABS: readonly LabKind[] = ['wbc', 'lactate', 'creatinine', 'hemoglobin', 'platelets', 'sodium', 'potassium', 'bicarbonate', 'bilirubin', 'bun', 'glucose'];
/**
 * Signals with last value, time since and count only: blood gases and the wider ICU panel
 * are drawn when someone is worried, so whether and how often they were drawn carries most
 * of what they say (measured on PhysioNet: packages/training/README.md).
 */
export const SPARSE_SIGNALS: readonly (LabKind | 'etco2')[] = ['etco2', ...EXTENDED_LAB_KINDS];
export const VITAL_WINDOWS = [
  { label: '1h', hours: 1 },
  { label: '6h', hours: 6 },
  { label: '24h', hours: 24 },
] as const;

const UNIT_WORDS = new Map<string, string>([['/min', 'per min'], ['%', '%'], ['mm[Hg]', 'mmHg'], ['Cel', '°C'], ['{score}', 'points'], ['{ACVPU}', 'ordinal'], ['1', 'fraction'], ['L/min', 'L/min'], ['10*3/uL', '10³/µL'], ['[pH]', 'pH']]);
const unitOf = (u: string) => UNIT_WORDS.get(u) ?? u;

const NEVER = 'null if never measured in this stay';
const IN_WINDOW = (w: string) => `null if not measured in the last ${w}`;
const TWO_IN_WINDOW = (w: string) => `null if fewer than 2 values in the last ${w}`;
const WINDOW = (w: string) => `[asOf − ${w}, asOf]`;

function lastValue(signal: string, unit: string): FeatureSpec {
  return { name: signal, unit, definition: `latest ${signal.replace(/_/g, ' ')} (canonical unit; ties at one time: the larger value)`, window: 'latest in stay', missing: NEVER };
}
function hoursSince(signal: string): FeatureSpec {
  return { name: `${signal}_hours_since`, unit: 'h', definition: `hours from the latest ${signal.replace(/_/g, ' ')} to asOf`, window: 'latest in stay', missing: NEVER };
}
function count24h(signal: string): FeatureSpec {
  return { name: `${signal}_count_24h`, unit: 'count', definition: `number of ${signal.replace(/_/g, ' ')} values (how often it was measured)`, window: WINDOW('24 h'), missing: 'never null (0)' };
}
function windowed(signal: string, unit: string, w: string, hours: number, stats: readonly ('min' | 'max' | 'delta' | 'slope')[]): FeatureSpec[] {
  const span = `${hours} h`;
  const defs = {
    min: { unit, definition: `lowest value`, missing: IN_WINDOW(span) },
    max: { unit, definition: `highest value`, missing: IN_WINDOW(span) },
    delta: { unit, definition: `last minus first value in the window`, missing: TWO_IN_WINDOW(span) },
    slope: { unit: `${unit}/h`, definition: `least-squares slope of value against time`, missing: TWO_IN_WINDOW(span) + ' or all at one time' },
  };
  return stats.map((stat) => ({ name: `${signal}_${stat}_${w}`, window: WINDOW(span), ...defs[stat], definition: `${signal.replace(/_/g, ' ')}: ${defs[stat].definition}` }));
}

function buildCatalog(): FeatureSpec[] {
  const f: FeatureSpec[] = [];
  // The original project's features first, in its order.
  f.push(
    { name: 'note_length', unit: 'characters', definition: 'length of the latest clinical note', window: 'latest note in stay', missing: 'null if no note' },
    { name: 'num_words', unit: 'count', definition: 'whitespace-separated words in the latest note', window: 'latest note in stay', missing: 'null if no note' },
    { name: 'avg_word_length', unit: 'characters', definition: 'mean characters per word of the latest note', window: 'latest note in stay', missing: 'null if no note or no words' },
    { name: 'has_lab', unit: '0/1', definition: '1 if any lab result was recorded in the window', window: WINDOW('24 h'), missing: 'never null' },
    { name: 'has_vitals', unit: '0/1', definition: '1 if any vital sign was recorded in the window', window: WINDOW('24 h'), missing: 'never null' },
  );
  const vitalUnit = (v: VitalKind) => unitOf(VITAL_UNITS[v]);
  for (const v of WINDOWED_VITALS) {
    f.push(lastValue(v, vitalUnit(v)), hoursSince(v), count24h(v));
    for (const w of VITAL_WINDOWS) f.push(...windowed(v, vitalUnit(v), w.label, w.hours, ['min', 'max', 'delta', 'slope']));
  }
  f.push(
    { name: 'lab_result', unit: 'mixed', definition: 'value of the most recent lab result of any kind (as in the original project)', window: 'latest in stay', missing: 'null if no lab' },
    { name: 'vitals_sum', unit: 'mixed', definition: 'heart_rate + temperature + respiratory_rate (latest values)', window: 'latest in stay', missing: 'null if any of the three is missing' },
    { name: 'vitals_range', unit: 'mixed', definition: 'max − min of heart_rate, temperature, respiratory_rate', window: 'latest in stay', missing: 'null if any of the three is missing' },
    { name: 'department', unit: 'code', definition: `department of the latest admission: ${describeCodes(DEPARTMENT_CODES)}`, window: 'latest admission', missing: 'never null (0 = unknown)' },
    { name: 'event_type', unit: 'code', definition: `schema of the event that triggered this vector: ${describeCodes(EVENT_TYPE_CODES)}`, window: 'trigger event', missing: 'never null' },
  );
  f.push(lastValue('mean_bp', 'mmHg'));
  f.push(lastValue('gcs', 'points'), hoursSince('gcs'), ...windowed('gcs', 'points', '24h', 24, ['min']));
  f.push({ ...lastValue('avpu', 'ordinal'), definition: 'latest ACVPU level: 0 alert, 1 new confusion, 2 voice, 3 pain, 4 unresponsive' });
  f.push(lastValue('fio2', 'fraction'), ...windowed('fio2', 'fraction', '24h', 24, ['max']));
  f.push(lastValue('o2_flow', 'L/min'), ...windowed('o2_flow', 'L/min', '24h', 24, ['max']));
  for (const lab of WINDOWED_LABS) {
    const unit = unitOf(LAB_UNITS[lab]);
    f.push(lastValue(lab, unit), hoursSince(lab), count24h(lab), ...windowed(lab, unit, '24h', 24, ['min', 'max', 'delta']));
  }
  for (const signal of SPARSE_SIGNALS) {
    const unit = unitOf(signal === 'etco2' ? VITAL_UNITS.etco2 : LAB_UNITS[signal]);
    f.push(lastValue(signal, unit), hoursSince(signal), count24h(signal));
  }
  f.push(
    { name: 'vitals_count_stay', unit: 'count', definition: 'vital-sign values recorded since the stay began (how closely the patient is watched)', window: 'stay', missing: 'never null (0)' },
    { name: 'labs_count_stay', unit: 'count', definition: 'lab results recorded since the stay began', window: 'stay', missing: 'never null (0)' },
    { name: 'labs_per_day_stay', unit: 'per day', definition: 'labs_count_stay per 24 h since the stay\'s first event (at least 1 h)', window: 'stay', missing: 'null before the first event' },
  );
  f.push(
    { name: 'pulse_pressure', unit: 'mmHg', definition: 'latest systolic_bp − latest diastolic_bp', window: 'latest in stay', missing: 'null if either is missing' },
    { name: 'mean_arterial_pressure', unit: 'mmHg', definition: '(systolic_bp + 2 × diastolic_bp) / 3 from the latest values', window: 'latest in stay', missing: 'null if either is missing' },
    { name: 'shock_index', unit: 'ratio', definition: 'latest heart_rate / latest systolic_bp', window: 'latest in stay', missing: 'null if either is missing or systolic_bp is 0' },
    { name: 'on_oxygen', unit: '0/1', definition: 'oxygen support at the latest oxygen observation: supplemental_o2 = 1, FiO2 > 0.21 or O2 flow > 0 (any at that time)', window: 'latest in stay', missing: 'null if no oxygen observation (device, FiO2, flow)' },
    { name: 'spo2_fio2_ratio', unit: 'ratio', definition: 'latest SpO2 (%) / FiO2 (latest FiO2 if on oxygen, 0.21 if on air)', window: 'latest in stay', missing: 'null if SpO2 or oxygen status is missing, or on oxygen without an FiO2' },
  );
  const news2Part = (part: string, what: string): FeatureSpec => ({
    name: `news2_${part}`,
    unit: 'points',
    definition: `NEWS2 (RCP 2017) score for ${what}, from its latest value`,
    window: 'latest in stay',
    missing: 'null if that parameter was never measured',
  });
  f.push(
    { name: 'news2_total', unit: 'points', definition: 'NEWS2 aggregate (0–20): sum of the parts that could be scored', window: 'latest in stay', missing: 'never null (missing parts add 0; see news2_missing)' },
    news2Part('respiratory_rate', 'respiration rate'),
    news2Part('spo2', 'SpO2 on the patient\'s scale (1, or 2 with oxygen status)'),
    news2Part('air_or_oxygen', 'air (0) or oxygen (2), from on_oxygen'),
    news2Part('systolic_bp', 'systolic blood pressure'),
    news2Part('heart_rate', 'pulse'),
    news2Part('consciousness', 'consciousness: ACVPU, or GCS (15 alert, <15 new confusion) when it is more recent'),
    news2Part('temperature', 'temperature'),
    { name: 'news2_missing', unit: 'count', definition: 'NEWS2 parameters (of 7) that could not be scored', window: 'latest in stay', missing: 'never null' },
    { name: 'news2_spo2_scale', unit: '1/2', definition: 'SpO2 scale in use (2 only when a clinician set it for hypercapnic respiratory failure)', window: 'latest admission/transfer', missing: 'never null (1 by default)' },
    { name: 'qsofa', unit: 'points', definition: 'qSOFA (Sepsis-3): RR ≥22, SBP ≤100, GCS <15 (ACVPU other than alert when no GCS), over the parameters available', window: 'latest in stay', missing: 'never null (see qsofa_missing)' },
    { name: 'qsofa_missing', unit: 'count', definition: 'qSOFA parameters (of 3) that were not available', window: 'latest in stay', missing: 'never null' },
  );
  f.push(
    { name: 'notes_count_24h', unit: 'count', definition: 'clinical notes written in the window', window: WINDOW('24 h'), missing: 'never null (0)' },
    { name: 'note_hours_since', unit: 'h', definition: 'hours from the latest note to asOf', window: 'latest note in stay', missing: 'null if no note' },
  );
  for (const c of RISK_CATEGORIES) {
    f.push({
      name: `note_${c}`,
      unit: '0/1',
      definition: `1 if a note in the window mentions ${c.replace(/_/g, ' ')} without negation (terms: ${RISK_TERMS[c].join(', ')})`,
      window: WINDOW('24 h'),
      missing: 'null if no note in the window',
    });
  }
  f.push(
    { name: 'note_risk_terms', unit: 'count', definition: 'risk categories affirmed in notes of the window', window: WINDOW('24 h'), missing: 'null if no note in the window' },
    { name: 'note_negated_terms', unit: 'count', definition: 'risk categories mentioned only negated ("denies chest pain") in notes of the window', window: WINDOW('24 h'), missing: 'null if no note in the window' },
  );
  f.push(
    { name: 'gender', unit: 'code', definition: `from the latest admission: ${describeCodes(GENDER_CODES)}`, window: 'latest admission', missing: 'never null (0 = unknown)' },
    { name: 'admission_type', unit: 'code', definition: `from the latest admission, matched by keyword: ${describeCodes(ADMISSION_TYPE_CODES)}`, window: 'latest admission', missing: 'never null (0 = unknown)' },
    { name: 'unit', unit: 'code', definition: `current care unit (latest admission or transfer), matched by keyword: ${describeCodes(UNIT_CODES)}`, window: 'latest admission/transfer', missing: 'never null (0 = unknown)' },
    { name: 'in_icu', unit: '0/1', definition: '1 if the current unit is intensive care (transfer flag, or the unit name)', window: 'latest admission/transfer', missing: 'null if no admission or transfer seen' },
    { name: 'age', unit: 'years', definition: 'age at admission', window: 'latest admission', missing: 'null if not given' },
    { name: 'hours_since_admission', unit: 'h', definition: 'hours from the latest admission to asOf (in an ICU replay: time in the ICU)', window: 'latest admission', missing: 'null if no admission seen' },
    { name: 'hours_since_hospital_admission', unit: 'h', definition: 'hours from the hospital admission (the admission\'s hospitalAdmitTime, else the admission itself) to asOf', window: 'latest admission', missing: 'null if no admission seen' },
  );
  f.push(...sepsisSpecs());
  return f;
}

/** Signals whose change from the stay's first value is a feature (the baseline Sepsis-3 measures a SOFA rise against). */
export const BASELINE_SIGNALS = ['heart_rate', 'respiratory_rate', 'temperature', 'systolic_bp', 'creatinine', 'platelets', 'bilirubin', 'wbc', 'lactate'] as const satisfies readonly (VitalKind | LabKind)[];

/**
 * Sepsis criteria, organ-failure scores, ratios and changes from the stay's first values
 * (feature set 2.1.0). Lab draws in 6 h / 24 h and the kinds of lab drawn were measured too and
 * left out: the per-lab counts and times since already carry them (packages/training/README.md).
 */
function sepsisSpecs(): FeatureSpec[] {
  const LATEST = 'latest in stay';
  const sofa = (part: string, what: string): FeatureSpec => ({ name: `sofa_${part}`, unit: 'points', definition: `SOFA (Vincent 1996) ${what}`, window: LATEST, missing: 'null if never measured' });
  const f: FeatureSpec[] = [
    { name: 'sirs_criteria', unit: 'count', definition: 'SIRS criteria met (Bone 1992): temperature > 38 or < 36 °C; heart rate > 90; respiratory rate > 20 or PaCO2 < 32 mmHg; WBC > 12 or < 4, over the latest known values', window: LATEST, missing: 'never null (an unknown criterion is not met)' },
    sofa('respiration', 'respiration from spo2_fio2_ratio: < 400 → 1, < 315 → 2, < 235 → 3, < 150 → 4 (the S/F equivalents of P/F 400/300/200/100, S/F = 64 + 0.84 · P/F)'),
    sofa('coagulation', 'coagulation: platelets < 150 → 1, < 100 → 2, < 50 → 3, < 20 → 4'),
    sofa('liver', 'liver: bilirubin ≥ 1.2 → 1, ≥ 2 → 2, ≥ 6 → 3, ≥ 12 → 4 mg/dL'),
    sofa('cardiovascular', 'cardiovascular, MAP only (no vasopressor data): MAP < 70 → 1; measured mean BP unless systolic BP is newer, then (SBP + 2 · DBP) / 3'),
    sofa('renal', 'renal, creatinine only (no urine output): ≥ 1.2 → 1, ≥ 2 → 2, ≥ 3.5 → 3, ≥ 5 → 4 mg/dL'),
    { name: 'sofa_partial', unit: 'points', definition: 'sum of the SOFA parts that can be scored: the five above, and CNS from GCS (< 15 → 1, < 13 → 2, < 10 → 3, < 6 → 4) when charted', window: LATEST, missing: 'never null (0 when nothing can be scored)' },
    { name: 'sofa_partial_change_from_first', unit: 'points', definition: 'coagulation + liver + cardiovascular + renal now minus the same parts from the stay\'s first values, over the parts known at both (Sepsis-3: a rise of ≥ 2 with infection)', window: 'stay', missing: 'null if no part is known at both' },
    { name: 'bun_creatinine_ratio', unit: 'ratio', definition: 'latest bun / latest creatinine (pre-renal vs renal failure)', window: LATEST, missing: 'null if either is missing or creatinine is 0' },
    { name: 'shock_index_worst_6h', unit: 'ratio', definition: 'heart_rate_max_6h / systolic_bp_min_6h', window: WINDOW('6 h'), missing: 'null if either was not measured in the last 6 h' },
  ];
  for (const signal of BASELINE_SIGNALS) {
    const unit = unitOf((VITAL_UNITS as Record<string, string>)[signal] ?? LAB_UNITS[signal as LabKind]);
    f.push({ name: `${signal}_change_from_first`, unit, definition: `latest ${signal.replace(/_/g, ' ')} minus the stay's first`, window: 'stay', missing: NEVER });
  }
  return f;
}

export const FEATURE_CATALOG: readonly FeatureSpec[] = buildCatalog();
export const FEATURE_NAMES: readonly string[] = FEATURE_CATALOG.map((s) => s.name);
export const FEATURE_COUNT = FEATURE_NAMES.length;

const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));
/** Position of a feature in the vector; throws for a name not in the catalog. */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature ${JSON.stringify(name)}`);
  return i;
}

/** FEATURES.md, generated from the catalog. */
export function renderFeatureDoc(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = FEATURE_CATALOG.map((s, i) => `| ${i} | \`${s.name}\` | ${esc(s.unit)} | ${esc(s.definition)} | ${esc(s.window)} | ${esc(s.missing)} |`);
  return [
    '# Features',
    '',
    `<!-- Generated from packages/features/src/featurize/catalog.ts by \`npm run features:doc -w packages/features\`; test/feature-doc.test.ts fails when they differ. -->`,
    '',
    `Feature set version **${FEATURE_SET_VERSION}**: ${FEATURE_COUNT} features, in vector order. The same code computes them in the`,
    'feature service and in the batch API (`buildTrainingRows`), from the state after cleaning and deduplication.',
    '',
    '- `asOf` is the event time the vector describes: the latest event time of the patient (never wall-clock time).',
    '- Windows are closed intervals `[asOf − w, asOf]` in event time. Values are in the canonical unit of the signal',
    '  (°C, mmHg, FiO2 as a fraction, labs in MIMIC-IV units) after cleaning.',
    '- Missing values are `null` in a feature-vector message and `NaN` in the batch matrix; the model maps them to its sentinel.',
    '- Codes are small integers with 0 = unknown; binary flags are 0/1.',
    '',
    '| # | name | unit | definition | window | missing |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
