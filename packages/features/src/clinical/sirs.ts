// SIRS criteria (Bone et al., Chest 1992): temperature > 38 or < 36 °C; heart rate > 90/min;
// respiratory rate > 20/min or PaCO2 < 32 mmHg; WBC > 12 or < 4 ×10³/µL. The sepsis
// definition before Sepsis-3; a count of criteria met, over the values that are known.

export interface SirsInput {
  temperature?: number | null;
  heartRate?: number | null;
  respiratoryRate?: number | null;
  paco2?: number | null;
  wbc?: number | null;
}

const known = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function sirsCount(input: SirsInput): number {
  const { temperature: t, heartRate: hr, respiratoryRate: rr, paco2, wbc } = input;
  let n = 0;
  if (known(t) && (t > 38 || t < 36)) n++;
  if (known(hr) && hr > 90) n++;
  if ((known(rr) && rr > 20) || (known(paco2) && paco2 < 32)) n++;
  if (known(wbc) && (wbc > 12 || wbc < 4)) n++;
  return n;
}
