// Where things live. Found from this file's location (walking up to package.json), so
// the same code works from dist/ and from the bench's separate build in dist/.bench/.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageDir(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** tools/kafka-local */
export const packageDir = findPackageDir(dirname(fileURLToPath(import.meta.url)));
/** The monorepo root. */
export const repoRoot = resolve(packageDir, '../..');
/** The plain-Node jar fetcher (runs before any build). */
export const fetchJarsScript = join(packageDir, 'scripts', 'fetch-jars.mjs');
/** The jars copied from Maven Central (git-ignored; shared by every state home). */
export const defaultJarsDir = join(repoRoot, '.kafka', 'jars');
/** The marker fetch-jars.mjs writes last, once every jar is in place. */
export const JARS_MARKER = '.fetched.json';

/** Where kafka:up keeps broker.json, data/ and broker.log: $KAFKA_LOCAL_HOME or <repo>/.kafka. */
export function localHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KAFKA_LOCAL_HOME ?? join(repoRoot, '.kafka'));
}
