// Categorical inputs → small integer codes, 0 always meaning "unknown", so the Random
// Forest (which splits numbers) sees an explicit unknown. Free-text categories from
// different sources (synthetic cohort, MIMIC, FHIR) are matched by keyword.

export const GENDER_CODES = { unknown: 0, F: 1, M: 2 } as const;

export const ADMISSION_TYPE_CODES = { unknown: 0, emergency: 1, urgent: 2, elective: 3, observation: 4, surgical_same_day: 5, other: 6 } as const;
export const UNIT_CODES = { unknown: 0, emergency: 1, ward: 2, step_down: 3, icu: 4, other: 5 } as const;
export const DEPARTMENT_CODES = {
  unknown: 0, medicine: 1, surgery: 2, cardiology: 3, neurology: 4, oncology: 5, pulmonology: 6, orthopedics: 7,
  emergency: 8, obstetrics: 9, other: 10, gastroenterology: 11, geriatrics: 12,
} as const;
export const EVENT_TYPE_CODES = { vital_sign: 1, lab_result: 2, clinical_note: 3, admission: 4, transfer: 5, discharge: 6 } as const;

const has = (text: string, ...words: string[]) => words.some((w) => text.includes(w));

export function genderCode(gender: string | undefined | null): number {
  return gender === 'F' ? GENDER_CODES.F : gender === 'M' ? GENDER_CODES.M : GENDER_CODES.unknown;
}

export function admissionTypeCode(type: string | undefined | null): number {
  const t = (type ?? '').toLowerCase();
  if (t.trim() === '') return ADMISSION_TYPE_CODES.unknown;
  if (has(t, 'same day')) return ADMISSION_TYPE_CODES.surgical_same_day;
  if (has(t, 'observation')) return ADMISSION_TYPE_CODES.observation;
  if (has(t, 'emer', 'ew ', 'accident', 'a&e')) return ADMISSION_TYPE_CODES.emergency;
  if (has(t, 'urgent')) return ADMISSION_TYPE_CODES.urgent;
  if (has(t, 'elective', 'planned', 'scheduled')) return ADMISSION_TYPE_CODES.elective;
  return ADMISSION_TYPE_CODES.other;
}

export function unitCode(unit: string | undefined | null): number {
  const u = ` ${(unit ?? '').toLowerCase()} `;
  if (u.trim() === '') return UNIT_CODES.unknown;
  if (has(u, 'icu', 'intensive', ' ccu', '(ccu)', 'critical care', 'itu')) return UNIT_CODES.icu;
  if (has(u, 'step', 'intermediate', 'hdu', 'high dependency')) return UNIT_CODES.step_down;
  if (has(u, 'emergency', ' ed ', ' ed)', '(ed', 'a&e')) return UNIT_CODES.emergency;
  if (has(u, 'theatre', 'operating', ' or ', 'recovery', 'pacu', 'dialysis', 'radiology', 'procedure')) return UNIT_CODES.other;
  // Any other named unit is a bed on a ward (MED-A, SURG-1, RESP, "Medicine", ...).
  return UNIT_CODES.ward;
}

export function departmentCode(department: string | undefined | null): number {
  const d = (department ?? '').toLowerCase();
  if (d.trim() === '') return DEPARTMENT_CODES.unknown;
  if (has(d, 'cardio', 'cardiac', 'heart', 'ccu')) return DEPARTMENT_CODES.cardiology;
  if (has(d, 'neuro', 'stroke')) return DEPARTMENT_CODES.neurology;
  if (has(d, 'onco', 'hemat', 'haemat', 'cancer')) return DEPARTMENT_CODES.oncology;
  if (has(d, 'pulm', 'respir', 'thorac', 'chest')) return DEPARTMENT_CODES.pulmonology;
  if (has(d, 'ortho', 'trauma')) return DEPARTMENT_CODES.orthopedics;
  if (has(d, 'emerg')) return DEPARTMENT_CODES.emergency;
  if (has(d, 'obstet', 'gyn', 'matern', 'labor', 'labour')) return DEPARTMENT_CODES.obstetrics;
  if (has(d, 'gastro', 'hepat', 'digestive')) return DEPARTMENT_CODES.gastroenterology;
  if (has(d, 'geriat', 'elderly', 'aged care')) return DEPARTMENT_CODES.geriatrics;
  if (has(d, 'surg')) return DEPARTMENT_CODES.surgery;
  if (has(d, 'medic', 'internal', 'general')) return DEPARTMENT_CODES.medicine;
  return DEPARTMENT_CODES.other;
}

/** `{a: 0, b: 1}` → "0 a, 1 b" for the feature documentation. */
export const describeCodes = (codes: Readonly<Record<string, number>>) =>
  Object.entries(codes)
    .map(([name, code]) => `${code} ${name}`)
    .join(', ');
