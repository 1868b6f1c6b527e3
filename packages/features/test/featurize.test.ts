// Every feature, hand-computed. Each check records the feature it covers; the last test
// fails if any feature in the catalog was never checked.
import { describe, expect, it } from 'vitest';
import {
  analyseNote,
  DEFAULT_ENGINE_OPTIONS,
  FEATURE_NAMES,
  featureIndex,
  featurize,
  processEvent,
  toFeatureValues,
  WINDOWED_LABS,
  WINDOWED_VITALS,
  type LabKind,
  type PatientState,
  type RawEvent,
  type VitalKind,
} from '../src/index.js';
import { admission, discharge, H, lab, note, T0, transfer, vital } from './helpers.js';

const checked = new Set<string>();
function check(values: Float64Array, name: string, expected: number | null, digits = 9): void {
  checked.add(name);
  const got = values[featureIndex(name)]!;
  if (expected === null) expect(got, name).toBeNaN();
  else expect(got, name).toBeCloseTo(expected, digits);
}

function stateOf(events: RawEvent[]): PatientState {
  const store = new Map<string, PatientState>();
  for (const e of events) expect(processEvent(store, e, DEFAULT_ENGINE_OPTIONS).kind).toBe('featurized');
  return [...store.values()][0]!;
}

// One series per signal: base + k·step at −26 h, −20 h, −5 h, −1 h and 0 h before asOf (k = 0..4).
// By hand, with s = step: 1 h window {k=3,4}: min base+3s, max base+4s, delta s, slope s/h.
// 6 h window {−5,−1,0 h; k=2,3,4}: mean t −2 h, deviations −3, 1, 2, Σdt² = 14,
// Σdt·dv = s(−3·2 + 1·3 + 2·4) = 5s → slope 5s/14; delta 2s.
// 24 h window {−20,−5,−1,0 h; k=1..4}: mean t −6.5 h, deviations −13.5, 1.5, 5.5, 6.5,
// Σdt² = 257, Σdt·dv = s(−13.5 + 3 + 16.5 + 26) = 32s → slope 32s/257; delta 3s; count 4.
const OFFSETS = [-26, -20, -5, -1, 0];
const VITAL_SERIES: Record<(typeof WINDOWED_VITALS)[number], [number, number]> = {
  heart_rate: [70, 10],
  respiratory_rate: [12, 2],
  spo2: [90, 2],
  systolic_bp: [100, 5],
  diastolic_bp: [60, 3],
  temperature: [36.5, 0.25],
};
const LAB_SERIES: Record<string, [number, number]> = {
  wbc: [8, 1], lactate: [1, 0.5], creatinine: [1, 0.25], hemoglobin: [10, 0.5], platelets: [150, 10], sodium: [135, 1],
  potassium: [4, 0.1], bicarbonate: [24, 1], bilirubin: [1, 0.2], bun: [15, 2], glucose: [100, 10],
};

const ASOF = 30; // hours after T0
const P = 'windows';
function windowEvents(): RawEvent[] {
  const events: RawEvent[] = [];
  OFFSETS.forEach((o, k) => {
    for (const [kind, [base, step]] of Object.entries(VITAL_SERIES)) events.push(vital(P, kind as VitalKind, base + k * step, ASOF + o));
    for (const [kind, [base, step]] of Object.entries(LAB_SERIES)) events.push(lab(P, kind as LabKind, base + k * step, ASOF + o));
  });
  events.push(
    vital(P, 'gcs', 15, ASOF - 26), vital(P, 'gcs', 13, ASOF - 3), vital(P, 'gcs', 14, ASOF - 1),
    vital(P, 'avpu', 0, ASOF - 2),
    vital(P, 'fio2', 0.5, ASOF - 10), vital(P, 'fio2', 0.35, ASOF - 2),
    vital(P, 'o2_flow', 4, ASOF - 10), vital(P, 'o2_flow', 2, ASOF - 2),
    vital(P, 'mean_bp', 85, ASOF - 1),
  );
  // Arrival order is event-time order except within the lateness tolerance; sort to be plain.
  return events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
}

describe('windowed vital and lab features', () => {
  const state = stateOf(windowEvents());
  const v = featurize(state, T0 + ASOF * H, 'vital_sign');

  it.each(WINDOWED_VITALS)('%s: last, time since, count, min/max/delta/slope over 1 h, 6 h, 24 h', (kind) => {
    const [b, s] = VITAL_SERIES[kind];
    check(v, kind, b + 4 * s);
    check(v, `${kind}_hours_since`, 0);
    check(v, `${kind}_count_24h`, 4);
    check(v, `${kind}_min_1h`, b + 3 * s);
    check(v, `${kind}_max_1h`, b + 4 * s);
    check(v, `${kind}_delta_1h`, s);
    check(v, `${kind}_slope_1h`, s);
    check(v, `${kind}_min_6h`, b + 2 * s);
    check(v, `${kind}_max_6h`, b + 4 * s);
    check(v, `${kind}_delta_6h`, 2 * s);
    check(v, `${kind}_slope_6h`, (5 * s) / 14);
    check(v, `${kind}_min_24h`, b + s);
    check(v, `${kind}_max_24h`, b + 4 * s);
    check(v, `${kind}_delta_24h`, 3 * s);
    check(v, `${kind}_slope_24h`, (32 * s) / 257);
  });

  it.each(WINDOWED_LABS)('%s: last, time since, count, min/max/delta over 24 h', (kind) => {
    const [b, s] = LAB_SERIES[kind]!;
    check(v, kind, b + 4 * s);
    check(v, `${kind}_hours_since`, 0);
    check(v, `${kind}_count_24h`, 4);
    check(v, `${kind}_min_24h`, b + s);
    check(v, `${kind}_max_24h`, b + 4 * s);
    check(v, `${kind}_delta_24h`, 3 * s);
  });

  it('time since last and windows look back from asOf, not from the last value', () => {
    const later = featurize(state, T0 + (ASOF + 5) * H, 'vital_sign');
    check(later, 'heart_rate_hours_since', 5);
    check(later, 'heart_rate_min_1h', null);
    check(later, 'heart_rate_delta_1h', null);
    check(later, 'heart_rate_count_24h', 3); // the −20 h value is now 25 h back: out
    check(later, 'heart_rate', 110);
  });

  it('GCS, ACVPU, FiO2, O2 flow and measured mean BP', () => {
    check(v, 'gcs', 14);
    check(v, 'gcs_hours_since', 1);
    check(v, 'gcs_min_24h', 13);
    check(v, 'avpu', 0);
    check(v, 'fio2', 0.35);
    check(v, 'fio2_max_24h', 0.5);
    check(v, 'o2_flow', 2);
    check(v, 'o2_flow_max_24h', 4);
    check(v, 'mean_bp', 85);
  });

  it('derived: pulse pressure, MAP, shock index, oxygen support, S/F ratio', () => {
    check(v, 'pulse_pressure', 120 - 72);
    check(v, 'mean_arterial_pressure', (120 + 2 * 72) / 3);
    check(v, 'shock_index', 110 / 120);
    check(v, 'on_oxygen', 1); // FiO2 0.35 and 2 L/min at −2 h, the latest oxygen observation
    check(v, 'spo2_fio2_ratio', 98 / 0.35);
  });

  it('NEWS2 total and parts, qSOFA (GCS 14 is newer than ACVPU alert)', () => {
    // RR 20 → 0, SpO2 98 → 0, oxygen → 2, SBP 120 → 0, HR 110 → 1, GCS 14 → 3, 37.5 °C → 0.
    check(v, 'news2_respiratory_rate', 0);
    check(v, 'news2_spo2', 0);
    check(v, 'news2_air_or_oxygen', 2);
    check(v, 'news2_systolic_bp', 0);
    check(v, 'news2_heart_rate', 1);
    check(v, 'news2_consciousness', 3);
    check(v, 'news2_temperature', 0);
    check(v, 'news2_total', 6);
    check(v, 'news2_missing', 0);
    check(v, 'news2_spo2_scale', 1);
    check(v, 'qsofa', 1); // RR 20 < 22, SBP 120 > 100, GCS 14 < 15
    check(v, 'qsofa_missing', 0);
  });

  it('sepsis criteria and partial SOFA from the latest values', () => {
    // HR 110 > 90 is the only SIRS criterion met (37.5 °C, RR 20, WBC 12 are all at or inside the limits).
    check(v, 'sirs_criteria', 1);
    check(v, 'sofa_respiration', 2); // S/F 98 / 0.35 = 280: < 315, not < 235
    check(v, 'sofa_coagulation', 0); // platelets 190
    check(v, 'sofa_liver', 1); // bilirubin 1.8
    check(v, 'sofa_cardiovascular', 0); // SBP (at asOf) is newer than the measured MAP 85: (120 + 2·72) / 3 = 88
    check(v, 'sofa_renal', 2); // creatinine 2.0
    check(v, 'sofa_partial', 2 + 0 + 1 + 0 + 2 + 1); // + CNS 1 from GCS 14
    // First values (−26 h): platelets 150 → 0, bilirubin 1.0 → 0, MAP 85 (the only measured one) → 0, creatinine 1.0 → 0.
    check(v, 'sofa_partial_change_from_first', 3);
    check(v, 'bun_creatinine_ratio', 23 / 2);
    check(v, 'shock_index_worst_6h', 110 / 110); // HR max over 6 h 110, SBP min 110 (at −5 h)
  });

  it('changes from the stay\'s first values (−26 h, outside every window)', () => {
    check(v, 'heart_rate_change_from_first', 40);
    check(v, 'respiratory_rate_change_from_first', 8);
    check(v, 'temperature_change_from_first', 1);
    check(v, 'systolic_bp_change_from_first', 20);
    check(v, 'creatinine_change_from_first', 1);
    check(v, 'platelets_change_from_first', 40);
    check(v, 'bilirubin_change_from_first', 0.8);
    check(v, 'wbc_change_from_first', 4);
    check(v, 'lactate_change_from_first', 2);
  });

  it("the original project's features", () => {
    check(v, 'has_lab', 1);
    check(v, 'has_vitals', 1);
    check(v, 'lab_result', 190); // every lab is at asOf: ties go to the larger value (platelets 190)
    check(v, 'vitals_sum', 110 + 37.5 + 20);
    check(v, 'vitals_range', 110 - 20);
    check(v, 'event_type', 1);
    check(featurize(state, T0 + ASOF * H, 'lab_result'), 'event_type', 2);
  });
});

describe('notes and who/where features', () => {
  const P2 = 'notes';
  const first = 'Patient denies chest pain. Febrile overnight.';
  const second = 'No signs of infection. Short of breath on exertion; started on high flow.';
  const state = stateOf([
    admission(P2, 0, { admissionType: 'EW EMER.', unit: 'Medicine Ward', department: 'Internal Medicine', gender: 'F', age: 67, spo2Scale: 2 }),
    note(P2, first, 1),
    transfer(P2, 5, 'Medical Intensive Care Unit (MICU)', true),
    note(P2, second, 6),
  ]);
  const v = featurize(state, T0 + 6 * H, 'clinical_note');

  it('latest note: length, words, mean word length', () => {
    const words = second.split(/\s+/);
    check(v, 'note_length', second.length);
    check(v, 'num_words', words.length);
    check(v, 'avg_word_length', words.join('').length / words.length);
    check(v, 'note_hours_since', 0);
    check(v, 'notes_count_24h', 2);
  });

  it('risk terms over the notes of 24 h, with negation', () => {
    // First note: chest pain negated, fever affirmed. Second: infection negated, dyspnea and high flow affirmed.
    check(v, 'note_chest_pain', 0);
    check(v, 'note_dyspnea', 1);
    check(v, 'note_infection', 1);
    check(v, 'note_confusion', 0);
    check(v, 'note_bleeding', 0);
    check(v, 'note_hypotension', 0);
    check(v, 'note_respiratory_support', 1);
    check(v, 'note_deterioration', 0);
    check(v, 'note_comfort_care', 0);
    check(v, 'note_risk_terms', 3);
    check(v, 'note_negated_terms', 1);
    expect(analyseNote(second).negated).toBeGreaterThan(0);
  });

  it('categoricals with an explicit unknown, age, time since admission', () => {
    check(v, 'gender', 1);
    check(v, 'admission_type', 1);
    check(v, 'department', 1);
    check(v, 'unit', 4);
    check(v, 'in_icu', 1);
    check(v, 'age', 67);
    check(v, 'hours_since_admission', 6);
    check(v, 'news2_spo2_scale', 2);
    check(v, 'event_type', 3);
  });

  it('missing means null: no vitals, no labs, nothing to score', () => {
    check(v, 'heart_rate', null);
    check(v, 'heart_rate_count_24h', 0);
    check(v, 'heart_rate_slope_24h', null);
    check(v, 'lab_result', null);
    check(v, 'has_lab', 0);
    check(v, 'has_vitals', 0);
    check(v, 'vitals_sum', null);
    check(v, 'pulse_pressure', null);
    check(v, 'on_oxygen', null);
    check(v, 'spo2_fio2_ratio', null);
    check(v, 'news2_total', 0);
    check(v, 'news2_missing', 7);
    check(v, 'news2_heart_rate', null);
    check(v, 'qsofa', 0);
    check(v, 'qsofa_missing', 3);
    const record = toFeatureValues(v);
    expect(record.heart_rate).toBeNull();
    expect(Object.keys(record)).toEqual(FEATURE_NAMES);
  });

  it('an unknown patient (no admission) has code 0 and null where unknown', () => {
    const bare = featurize(stateOf([vital('bare', 'heart_rate', 80, 0)]), T0, 'vital_sign');
    check(bare, 'gender', 0);
    check(bare, 'admission_type', 0);
    check(bare, 'unit', 0);
    check(bare, 'department', 0);
    check(bare, 'in_icu', null);
    check(bare, 'age', null);
    check(bare, 'hours_since_admission', null);
    check(bare, 'note_length', null);
    check(bare, 'note_chest_pain', null);
    check(bare, 'notes_count_24h', 0);
    check(bare, 'news2_spo2_scale', 1);
  });
});

describe('NEWS2 through featurize, at every band edge of the RCP chart', () => {
  // Each case: events for one parameter, expected part. Oxygen status comes from supplemental_o2.
  const part = (events: RawEvent[], name: string) => featurize(stateOf(events), Date.parse(events.at(-1)!.occurredAt), 'vital_sign')[featureIndex(name)];
  const one = (kind: VitalKind, value: number) => [vital(`n2-${kind}-${value}`, kind, value, 0)];

  it.each([[8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3]])('RR %s → %s', (x, s) =>
    expect(part(one('respiratory_rate', x), 'news2_respiratory_rate')).toBe(s));
  it.each([[91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0]])('SpO2 scale 1: %s → %s', (x, s) => expect(part(one('spo2', x), 'news2_spo2')).toBe(s));
  it.each([[90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3]])('SBP %s → %s', (x, s) =>
    expect(part(one('systolic_bp', x), 'news2_systolic_bp')).toBe(s));
  it.each([[40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3]])('pulse %s → %s', (x, s) =>
    expect(part(one('heart_rate', x), 'news2_heart_rate')).toBe(s));
  it.each([[35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2]])('temperature %s → %s', (x, s) =>
    expect(part(one('temperature', x), 'news2_temperature')).toBe(s));
  it.each([[0, 0], [1, 3], [2, 3], [3, 3], [4, 3]])('ACVPU %s → %s', (x, s) => expect(part(one('avpu', x), 'news2_consciousness')).toBe(s));
  it.each([[15, 0], [14, 3]])('GCS %s → %s', (x, s) => expect(part(one('gcs', x), 'news2_consciousness')).toBe(s));
  it.each([[0, 0], [1, 2]])('supplemental O2 %s → %s', (x, s) => expect(part(one('supplemental_o2', x), 'news2_air_or_oxygen')).toBe(s));
  it('FiO2 above room air counts as oxygen; 0.21 as air', () => {
    expect(part(one('fio2', 0.28), 'news2_air_or_oxygen')).toBe(2);
    expect(part(one('fio2', 0.21), 'news2_air_or_oxygen')).toBe(0);
  });

  const scale2 = (spo2: number, o2: 0 | 1) => {
    const p = `s2-${spo2}-${o2}`;
    return [admission(p, 0, { spo2Scale: 2 }), vital(p, 'supplemental_o2', o2, 0.5), vital(p, 'spo2', spo2, 1)];
  };
  it.each([
    [83, 0, 3], [84, 0, 2], [85, 0, 2], [86, 0, 1], [87, 0, 1], [88, 0, 0], [92, 0, 0], [93, 0, 0], [97, 0, 0],
    [83, 1, 3], [84, 1, 2], [86, 1, 1], [88, 1, 0], [92, 1, 0], [93, 1, 1], [94, 1, 1], [95, 1, 2], [96, 1, 2], [97, 1, 3],
  ] as const)('SpO2 scale 2: %s%% with oxygen=%s → %s', (x, o2, s) => expect(part(scale2(x, o2), 'news2_spo2')).toBe(s));

  it('total and band-relevant parts on scale 2 with oxygen', () => {
    // RR 22 → 2, SpO2 95 on O2 (scale 2) → 2, oxygen → 2, SBP 105 → 1, HR 95 → 1, alert → 0, 38.5 → 1: total 9.
    const p = 'total';
    const v = featurize(
      stateOf([
        admission(p, 0, { spo2Scale: 2 }),
        vital(p, 'respiratory_rate', 22, 1), vital(p, 'spo2', 95, 1), vital(p, 'supplemental_o2', 1, 1), vital(p, 'systolic_bp', 105, 1),
        vital(p, 'heart_rate', 95, 1), vital(p, 'avpu', 0, 1), vital(p, 'temperature', 38.5, 1),
      ]),
      T0 + H,
      'vital_sign',
    );
    check(v, 'news2_total', 9);
    check(v, 'qsofa', 1);
  });
});

describe('the wider ICU panel, stay counts, hospital admission', () => {
  it('sparse signals: last value, hours since, count in 24 h; counts over the stay; hours since the hospital admission', () => {
    const events: RawEvent[] = [admission('icu', 0, { hospitalAdmitTime: new Date(T0 - 10 * H).toISOString() })];
    // Each sparse signal twice: 30 h before asOf (outside the 24 h window) and 2 h before.
    const SPARSE = ['etco2', 'ph', 'paco2', 'base_excess', 'sao2', 'ast', 'alkaline_phosphatase', 'calcium', 'chloride', 'bilirubin_direct', 'magnesium', 'phosphate', 'troponin_i', 'hematocrit', 'ptt', 'fibrinogen'] as const;
    const value = (i: number, k: number) => [35, 7.3, 40, -2, 95, 30, 80, 8.5, 100, 0.3, 2, 3.5, 0.05, 30, 30, 300][i]! + k * 0.01;
    SPARSE.forEach((kind, i) => {
      for (const [k, at] of [[0, 2], [1, 30]] as const) events.push(kind === 'etco2' ? vital('icu', 'etco2', value(i, k), at) : lab('icu', kind, value(i, k), at));
    });
    events.push(vital('icu', 'heart_rate', 90, 31));
    const state = stateOf(events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt)));
    const v = featurize(state, T0 + 32 * H, 'vital_sign');
    SPARSE.forEach((kind, i) => {
      check(v, kind, value(i, 1));
      check(v, `${kind}_hours_since`, 2);
      check(v, `${kind}_count_24h`, 1);
    });
    check(v, 'vitals_count_stay', 3);
    check(v, 'labs_count_stay', 30);
    check(v, 'labs_per_day_stay', (30 * 24) / 32);
    check(v, 'hours_since_hospital_admission', 42);
  });

  it('before any event there is no rate; a fresh stay starts its counts at 0', () => {
    const s = stateOf([admission('fresh', 0)]);
    const v = featurize(s, T0 + H, 'admission');
    expect(v[featureIndex('labs_count_stay')]).toBe(0);
    expect(v[featureIndex('labs_per_day_stay')]).toBe(0);
  });
});

describe('sepsis features at their edges', () => {
  it('a measured MAP newer than the systolic BP is used; SIRS through PaCO2 and low temperature and WBC', () => {
    const p = 'edges';
    const v = featurize(
      stateOf([
        vital(p, 'systolic_bp', 100, 0), vital(p, 'diastolic_bp', 60, 0), vital(p, 'mean_bp', 65, 1),
        vital(p, 'temperature', 35.5, 1), lab(p, 'paco2', 30, 1), lab(p, 'wbc', 3, 1), lab(p, 'creatinine', 0, 1),
      ]),
      T0 + H,
      'vital_sign',
    );
    check(v, 'sofa_cardiovascular', 1);
    check(v, 'sirs_criteria', 3);
    check(v, 'bun_creatinine_ratio', null); // no BUN, and creatinine 0
  });

  it('a lone heart rate: nothing to score, no orders, no change yet', () => {
    const v = featurize(stateOf([vital('lone', 'heart_rate', 95, 0)]), T0, 'vital_sign');
    check(v, 'sirs_criteria', 1);
    check(v, 'sofa_partial', 0);
    check(v, 'sofa_respiration', null);
    check(v, 'sofa_partial_change_from_first', null);
    check(v, 'shock_index_worst_6h', null);
    check(v, 'heart_rate_change_from_first', 0);
    check(v, 'creatinine_change_from_first', null);
  });

  it('the baseline is the earliest value, whatever the arrival order; a new stay starts a new one', () => {
    const p = 'late-first';
    const store = new Map<string, PatientState>();
    for (const e of [vital(p, 'heart_rate', 100, 3), vital(p, 'heart_rate', 80, 1), vital(p, 'heart_rate', 120, 4)]) processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    check(featurize(store.get(p)!, T0 + 4 * H, 'vital_sign'), 'heart_rate_change_from_first', 40);
    processEvent(store, discharge(p, 5), DEFAULT_ENGINE_OPTIONS);
    processEvent(store, vital(p, 'heart_rate', 70, 10), DEFAULT_ENGINE_OPTIONS);
    check(featurize(store.get(p)!, T0 + 10 * H, 'vital_sign'), 'heart_rate_change_from_first', 0);
  });
});

describe('coverage', () => {
  it('every feature in the catalog has a hand-computed check above', () => {
    expect(FEATURE_NAMES.filter((n) => !checked.has(n))).toEqual([]);
  });
});

describe('categorical codes', () => {
  it('match the synthetic cohort, MIMIC and free text by keyword, 0 when unknown', async () => {
    const { unitCode, departmentCode, admissionTypeCode } = await import('../src/index.js');
    expect(['MED-A', 'SURG-1', 'RESP', 'GI', 'Medicine', 'ICU', 'Medical Intensive Care Unit (MICU)', 'Emergency Department', 'Step-down unit', '', 'PACU'].map(unitCode)).toEqual([2, 2, 2, 2, 2, 4, 4, 1, 3, 0, 5]);
    expect(['medicine', 'surgery', 'respiratory', 'gastroenterology', 'cardiology', 'geriatrics', '', 'dermatology'].map(departmentCode)).toEqual([1, 2, 6, 11, 3, 12, 0, 10]);
    expect(['emergency', 'urgent', 'elective', 'observation', 'EW EMER.', 'SURGICAL SAME DAY ADMISSION', '', 'x'].map(admissionTypeCode)).toEqual([1, 2, 3, 4, 1, 5, 0, 6]);
  });
});
