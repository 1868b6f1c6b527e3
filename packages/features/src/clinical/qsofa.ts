// qSOFA (Sepsis-3, Seymour et al., JAMA 2016): one point each for RR ≥22, SBP ≤100,
// altered mentation (GCS <15). ≥2 is positive.

export interface QsofaInput {
  respiratoryRate?: number | null;
  systolicBp?: number | null;
  gcs?: number | null;
}

export interface QsofaResult {
  score: number;
  positive: boolean;
  missing: (keyof QsofaInput)[];
}

export function qsofa(input: QsofaInput): QsofaResult {
  const missing: (keyof QsofaInput)[] = [];
  let score = 0;
  const point = (name: keyof QsofaInput, value: number | null | undefined, hit: (v: number) => boolean) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) missing.push(name);
    else if (hit(Math.round(value))) score += 1;
  };
  point('respiratoryRate', input.respiratoryRate, (v) => v >= 22);
  point('systolicBp', input.systolicBp, (v) => v <= 100);
  point('gcs', input.gcs, (v) => v < 15);
  return { score, positive: score >= 2, missing };
}
