// Codes from the clinical reference (../shared/docs/clinical-reference.md): LOINC for the
// FHIR endpoint and the synthetic labs, MIMIC-IV item ids for the MEDS replay.
import type { LabKind, VitalKind } from '@ehr/features';

/** Primary LOINC code per lab, as written on synthetic lab events. */
export const LAB_LOINC: Readonly<Record<LabKind, string>> = {
  wbc: '6690-2',
  lactate: '32693-4',
  creatinine: '2160-0',
  hemoglobin: '718-7',
  platelets: '777-3',
  sodium: '2951-2',
  potassium: '2823-3',
  bicarbonate: '1963-8',
  bilirubin: '1975-2',
  bun: '3094-0',
  glucose: '2345-7',
  ph: '2744-1',
  paco2: '2019-8',
  base_excess: '1925-7',
  // SaO2 from a blood gas shares 2708-6 with SpO2 in many feeds (see LOINC_SIGNALS).
  sao2: '2708-6',
  ast: '1920-8',
  alkaline_phosphatase: '6768-6',
  calcium: '17861-6',
  chloride: '2075-0',
  bilirubin_direct: '1968-7',
  magnesium: '19123-9',
  phosphate: '2777-1',
  troponin_i: '10839-9',
  hematocrit: '4544-3',
  ptt: '3173-2',
  fibrinogen: '3255-7',
};

export type SignalRef = { type: 'vital'; kind: VitalKind } | { type: 'lab'; kind: LabKind };

const vital = (kind: VitalKind): SignalRef => ({ type: 'vital', kind });
const lab = (kind: LabKind): SignalRef => ({ type: 'lab', kind });

/**
 * LOINC → signal. The reference codes first, then common equivalents that hospital
 * systems send for the same measurement (e.g. glucose in blood rather than serum).
 */
export const LOINC_SIGNALS: ReadonlyMap<string, SignalRef> = new Map<string, SignalRef>([
  ['8867-4', vital('heart_rate')],
  ['9279-1', vital('respiratory_rate')],
  ['2708-6', vital('spo2')],
  ['59408-5', vital('spo2')],
  ['8480-6', vital('systolic_bp')],
  ['8462-4', vital('diastolic_bp')],
  ['8478-0', vital('mean_bp')],
  ['8310-5', vital('temperature')],
  ['8331-1', vital('temperature')],
  ['9269-2', vital('gcs')],
  ['3150-0', vital('fio2')],
  ['19941-4', vital('o2_flow')],
  ['3151-8', vital('o2_flow')],
  ['19889-5', vital('etco2')],
  // 2708-6 stays SpO2 here (what most feeds mean by it); a laboratory-category Observation
  // with it is SaO2 (observation.ts).
  ...Object.entries(LAB_LOINC)
    .filter(([kind]) => kind !== 'sao2')
    .map(([kind, code]) => [code, lab(kind as LabKind)] as [string, SignalRef]),
  ['14979-9', lab('ptt')],
  ['26464-8', lab('wbc')],
  ['2524-7', lab('lactate')],
  ['38483-4', lab('creatinine')],
  ['20509-6', lab('hemoglobin')],
  ['26515-7', lab('platelets')],
  ['2947-0', lab('sodium')],
  ['6298-4', lab('potassium')],
  ['1959-6', lab('bicarbonate')],
  ['6299-2', lab('bun')],
  ['2339-0', lab('glucose')],
  ['15074-8', lab('glucose')],
]);

/** Blood-pressure panels whose values come as components (systolic 8480-6, diastolic 8462-4). */
export const BP_PANEL_LOINC: ReadonlySet<string> = new Set(['85354-9', '55284-4', '35094-2']);

/** MIMIC-IV item id → signal (icu chartevents and hosp labevents), per the clinical reference. */
export const MIMIC_ITEMS: ReadonlyMap<number, SignalRef & { method?: string }> = new Map<number, SignalRef & { method?: string }>([
  [220045, vital('heart_rate')],
  [220210, vital('respiratory_rate')],
  [224690, vital('respiratory_rate')],
  [220277, vital('spo2')],
  [220179, { ...vital('systolic_bp'), method: 'non-invasive' }],
  [220180, { ...vital('diastolic_bp'), method: 'non-invasive' }],
  [220181, { ...vital('mean_bp'), method: 'non-invasive' }],
  [220050, { ...vital('systolic_bp'), method: 'arterial' }],
  [220051, { ...vital('diastolic_bp'), method: 'arterial' }],
  [220052, { ...vital('mean_bp'), method: 'arterial' }],
  [225309, { ...vital('systolic_bp'), method: 'arterial' }],
  [225310, { ...vital('diastolic_bp'), method: 'arterial' }],
  [225312, { ...vital('mean_bp'), method: 'arterial' }],
  [223761, vital('temperature')],
  [223762, vital('temperature')],
  [223835, vital('fio2')],
  [223834, vital('o2_flow')],
  [51301, lab('wbc')],
  [50813, lab('lactate')],
  [50912, lab('creatinine')],
  [51222, lab('hemoglobin')],
  [51265, lab('platelets')],
  [50983, lab('sodium')],
  [50971, lab('potassium')],
  [50882, lab('bicarbonate')],
  [50885, lab('bilirubin')],
  [51006, lab('bun')],
  [50931, lab('glucose')],
]);

/** GCS components (eye, verbal, motor), summed into one `gcs` event when charted together. */
export const MIMIC_GCS_ITEMS: ReadonlyMap<number, 'eye' | 'verbal' | 'motor'> = new Map([
  [220739, 'eye'],
  [223900, 'verbal'],
  [223901, 'motor'],
] as const);
