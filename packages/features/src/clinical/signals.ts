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
] as const;
export type VitalKind = (typeof VITAL_KINDS)[number];

export const LAB_KINDS = [
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
};

/** Canonical unit per lab (the units MIMIC-IV reports them in). */
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
};

export const AVPU_LEVELS = ['alert', 'new_confusion', 'voice', 'pain', 'unresponsive'] as const;
export type Consciousness = (typeof AVPU_LEVELS)[number];
