import { createRandom } from '@ehr/features';

export interface Problem {
  X: (number | null)[][];
  y: number[];
  names: string[];
}

/**
 * A clean nonlinear problem: y = XOR(x0 > 0.5, x1 > 0.5) OR (x2² + x3² < 0.15), with
 * distractor features, optional label noise and optional missing values in x4 (a missing
 * x4 is informative: such rows are positive 70 % of the time).
 */
export function nonlinearProblem(n: number, seed: number, opts: { noise?: number; missing?: boolean; features?: number } = {}): Problem {
  const r = createRandom(seed);
  const nF = opts.features ?? 8;
  const X: (number | null)[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row: (number | null)[] = Array.from({ length: nF }, () => r.next());
    const x = row as number[];
    let label = (x[0]! > 0.5) !== (x[1]! > 0.5) || x[2]! * x[2]! + x[3]! * x[3]! < 0.15 ? 1 : 0;
    if (opts.missing && r.chance(0.15)) {
      row[4] = null;
      label = r.chance(0.7) ? 1 : 0;
    }
    if (opts.noise && r.chance(opts.noise)) label = 1 - label;
    X.push(row);
    y.push(label);
  }
  return { X, y, names: Array.from({ length: nF }, (_, f) => `x${f}`) };
}
