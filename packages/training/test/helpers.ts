import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { DataSource } from '../src/index.js';

/** A small synthetic cohort: about 19k feature rows of 40 patients, 9 of them with an outcome. */
export const SMALL_COHORT: DataSource = { kind: 'synthetic', seed: 3, patients: 40, hours: 72, deteriorationRate: 0.6 };
export const SMALL_ARGS = ['--synthetic', '--seed', '3', '--patients', '40', '--hours', '72', '--deterioration-rate', '0.6', '--trees', '12', '--bootstrap', '50'];

/** A temporary directory removed after the file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ehr-training-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PSV_HEADER = 'HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel';

/**
 * Writes `n` PhysioNet-like stays (.psv) whose septic ones (a quarter) show it: heart and
 * breathing rates and temperature climb, lactate is drawn, from 8 h before onset.
 */
export async function writeFakePhysioNet(dir: string, n: number, seed = 1): Promise<void> {
  const { createRandom } = await import('@ehr/features');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const r = createRandom(seed);
  for (let s = 0; s < n; s++) {
    const hours = 24 + Math.floor(r.next() * 24);
    const septic = s % 4 === 1;
    const onset = septic ? 12 + Math.floor(r.next() * (hours - 14)) : Infinity;
    const lines = [PSV_HEADER];
    for (let h = 0; h < hours; h++) {
      const sick = Math.max(0, Math.min(1, (h - (onset - 8)) / 8));
      const v = new Array<string>(41).fill('NaN');
      v[0] = String(Math.round(80 + 35 * sick + 8 * r.next()));
      v[1] = String(Math.round(97 - 4 * sick));
      if (h % 4 === 0) v[2] = (36.8 + 1.6 * sick + 0.3 * r.next()).toFixed(1);
      v[3] = String(Math.round(125 - 25 * sick + 10 * r.next()));
      v[6] = String(Math.round(16 + 9 * sick + 3 * r.next()));
      if (sick > 0.3) v[22] = (2 + 3 * sick).toFixed(1);
      v[34] = String(40 + (s % 50));
      v[35] = String(s % 2);
      v[36] = s % 3 === 0 ? '1' : '0';
      v[37] = s % 3 === 1 ? '1' : '0';
      v[38] = '-12.5';
      v[39] = String(h + 1);
      v[40] = h >= onset - 6 ? '1' : '0';
      lines.push(v.join('|'));
    }
    writeFileSync(`${dir}/p${String(900000 + s)}.psv`, lines.join('\n') + '\n');
  }
}
