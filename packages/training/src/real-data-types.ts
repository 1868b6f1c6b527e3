// The few shapes the real-data modules share (kept apart so they import no cycle).
export { featureIndex } from '@ehr/features';

export interface PhysioNetDemographicsLike {
  age: number | null;
  gender: 'F' | 'M' | 'U';
  unit: string;
}
