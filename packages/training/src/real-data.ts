// Patient subgroups of real data (sex, age band, ICU type) for the clinical evaluation.
import type { PhysioNetDemographicsLike } from './real-data-types.js';
import type { Subgroup } from './clinical-evaluation.js';

export const AGE_BANDS = [
  { label: '< 45', max: 45 },
  { label: '45–64', max: 65 },
  { label: '65–79', max: 80 },
  { label: '≥ 80', max: Infinity },
] as const;

export function ageBand(age: number | null): string {
  if (age === null || Number.isNaN(age)) return 'unknown';
  return AGE_BANDS.find((b) => age < b.max)!.label;
}

/** Sex, age band and ICU type of each patient. */
export function demographicSubgroups(demographics: readonly PhysioNetDemographicsLike[]): Subgroup[] {
  return [
    { name: 'sex', of: (p) => ({ F: 'female', M: 'male', U: 'unknown' })[demographics[p]!.gender] },
    { name: 'age', of: (p) => ageBand(demographics[p]!.age), order: AGE_BANDS.map((b) => b.label) },
    { name: 'ICU', of: (p) => (demographics[p]!.unit === 'ICU' ? 'not recorded' : demographics[p]!.unit), order: ['MICU', 'SICU', 'not recorded'] },
  ];
}
