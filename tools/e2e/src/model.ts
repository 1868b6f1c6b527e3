// A small real model for scoring in tests: trained once by @ehr/training from a synthetic
// cohort (the same code path as the default model of `npm start`, with smaller arguments)
// and kept under .tmp/ (git-ignored) for later runs. 120 patients × 48 h, 20 trees: ~8 s.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@ehr/kafka-local';
import { DEFAULT_MODEL_ARGS, ensureDefaultModel } from '@ehr/training';

export const TEST_MODEL_ARGS: readonly string[] = ['--synthetic', '--seed', '1', '--patients', '120', '--hours', '48', '--trees', '20'];

/** Path of a trained model artifact for `args` (trained now if missing). */
export async function ensureModel(args: readonly string[] = TEST_MODEL_ARGS, say: (line: string) => void = () => undefined): Promise<string> {
  const dir = join(repoRoot, '.tmp', 'e2e-models');
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(args.join('\u0000')).digest('hex').slice(0, 12);
  const path = join(dir, `severity-model-${hash}.json`);
  await ensureDefaultModel({ path, args, say, env: { SOURCE_DATE_EPOCH: '1767225600' } });
  return path;
}

/** The default model of `npm start` (100 trees), for the benchmark. */
export const ensureDefaultSizedModel = (say?: (line: string) => void) => ensureModel(DEFAULT_MODEL_ARGS, say);
