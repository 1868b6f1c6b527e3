// The signals the pipeline understands, with their canonical units. Sources map their
// own codes (MIMIC item ids, LOINC) onto these names; everything downstream uses them.

export const VITAL_KINDS = [
  'heart_rate',
  'respiratory_rate',
  'spo2',
  'systolic_bp',
  'diastolic_bp',
  'mean_bp',
  'temperature',
  'gcs',
  'avpu',
  'fio2',
  'o2_flow',
  'supplemental_o2',
  // End-tidal CO2 (capnography), ventilated patients.
  'etco2',
] as const;
export type VitalKind = (typeof VITAL_KINDS)[number];

/** The labs the synthetic generator and the MIMIC-IV mapping produce. */
export const CORE_LAB_KINDS = [
  'wbc',
  'lactate',
  'creatinine',
  'hemoglobin',
  'platelets',
  'sodium',
  'potassium',
  'bicarbonate',
  'bilirubin',
  'bun',
  'glucose',
] as const;
export type CoreLabKind = (typeof CORE_LAB_KINDS)[number];

/** Blood gases and the wider ICU panel (the PhysioNet/CinC 2019 variables). */
export const EXTENDED_LAB_KINDS = [
  'ph',
  'paco2',
  'base_excess',
  'sao2',
  'ast',
  'alkaline_phosphatase',
  'calcium',
  'chloride',
  'bilirubin_direct',
  'magnesium',
  'phosphate',
  'troponin_i',
  'hematocrit',
  'ptt',
  'fibrinogen',
] as const;

export const LAB_KINDS = [...CORE_LAB_KINDS, ...EXTENDED_LAB_KINDS] as const;
export type LabKind = (typeof LAB_KINDS)[number];

/** Canonical unit per vital (UCUM codes, as FHIR uses them). */
export const VITAL_UNITS: Readonly<Record<VitalKind, string>> = {
  heart_rate: '/min',
  respiratory_rate: '/min',
  spo2: '%',
  systolic_bp: 'mm[Hg]',
  diastolic_bp: 'mm[Hg]',
  mean_bp: 'mm[Hg]',
  temperature: 'Cel',
  gcs: '{score}',
  // ACVPU as an ordinal: 0 Alert, 1 new Confusion, 2 Voice, 3 Pain, 4 Unresponsive.
  avpu: '{ACVPU}',
  fio2: '1',
  o2_flow: 'L/min',
  // 1 when any oxygen device is in use, 0 on room air.
  supplemental_o2: '{bool}',
  etco2: 'mm[Hg]',
};

/** Canonical unit per lab (the units MIMIC-IV and the PhysioNet/CinC 2019 data report them in). */
export const LAB_UNITS: Readonly<Record<LabKind, string>> = {
  wbc: '10*3/uL',
  lactate: 'mmol/L',
  creatinine: 'mg/dL',
  hemoglobin: 'g/dL',
  platelets: '10*3/uL',
  sodium: 'mmol/L',
  potassium: 'mmol/L',
  bicarbonate: 'mmol/L',
  bilirubin: 'mg/dL',
  bun: 'mg/dL',
  glucose: 'mg/dL',
  ph: '[pH]',
  paco2: 'mm[Hg]',
  base_excess: 'mmol/L',
  sao2: '%',
  ast: 'U/L',
  alkaline_phosphatase: 'U/L',
  calcium: 'mg/dL',
  chloride: 'mmol/L',
  bilirubin_direct: 'mg/dL',
  magnesium: 'mg/dL',
  phosphate: 'mg/dL',
  troponin_i: 'ng/mL',
  hematocrit: '%',
  ptt: 's',
  fibrinogen: 'mg/dL',
};

export const AVPU_LEVELS = ['alert', 'new_confusion', 'voice', 'pain', 'unresponsive'] as const;
export type Consciousness = (typeof AVPU_LEVELS)[number];
