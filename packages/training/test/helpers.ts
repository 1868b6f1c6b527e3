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
