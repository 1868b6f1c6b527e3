// Where the PhysioNet data is: PHYSIONET_PATH (a file or a directory), else beside the
// checkout at ../shared/data/physionet-2019-sepsis/ (relative to the repository root).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PHYSIONET_PARQUET_NAME, PHYSIONET_RELATIVE_DIR } from '@ehr/cohort';

/** What `--physionet` means without a path. */
export const PHYSIONET_DEFAULT_ARG = '(default)';

/** A directory holding the packed parquet means the parquet; any other directory is read as .psv files. */
export function physionetFileIn(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, PHYSIONET_PARQUET_NAME))) return join(path, PHYSIONET_PARQUET_NAME);
  return path;
}

/** The data to use: PHYSIONET_PATH, else the shared copy beside the checkout; null when neither exists. */
export function findPhysioNetData(env: Readonly<Record<string, string | undefined>> = process.env, root = process.cwd()): string | null {
  const fromEnv = env.PHYSIONET_PATH;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const p = physionetFileIn(resolve(root, fromEnv));
    return holdsData(p) ? p : null;
  }
  const shared = physionetFileIn(resolve(root, PHYSIONET_RELATIVE_DIR));
  return existsSync(shared) && shared.endsWith('.parquet') ? shared : null;
}

/**
 * A file, or a directory with a .psv in it. A directory alone is not data: compose mounts the
 * data at PHYSIONET_PATH, and Docker creates an empty directory where the host has none, so
 * the default model's step trained on nothing and failed ("no .psv files") instead of falling
 * back to synthetic patients, and scoring, waiting on that step, never started.
 */
function holdsData(path: string): boolean {
  if (!existsSync(path)) return false;
  if (!statSync(path).isDirectory()) return true;
  return readdirSync(path).some((name) => name.toLowerCase().endsWith('.psv'));
}

export function resolvePhysioNetArg(arg: string, env: Readonly<Record<string, string | undefined>>, root = process.cwd()): string {
  if (arg !== PHYSIONET_DEFAULT_ARG) return physionetFileIn(arg);
  const found = findPhysioNetData(env, root);
  if (!found) throw new Error(`no PhysioNet data: set PHYSIONET_PATH or put it at ${PHYSIONET_RELATIVE_DIR}/ (relative to the repository root)`);
  return found;
}
