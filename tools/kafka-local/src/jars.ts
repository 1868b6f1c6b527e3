// The broker's class path: present once scripts/fetch-jars.mjs has written its marker.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultJarsDir, fetchJarsScript, JARS_MARKER } from './paths.js';

export interface JarsInfo {
  dir: string;
  kafkaVersion: string;
  jars: number;
}

/** The fetched jars in `dir`, or undefined when they are missing or incomplete. */
export function findJars(dir: string = defaultJarsDir): JarsInfo | undefined {
  const marker = join(dir, JARS_MARKER);
  if (!existsSync(marker)) return undefined;
  const parsed = JSON.parse(readFileSync(marker, 'utf8')) as { kafkaVersion?: string; jars?: number };
  return { dir, kafkaVersion: parsed.kafkaVersion ?? 'unknown', jars: parsed.jars ?? 0 };
}

/**
 * Runs fetch-jars.mjs (a no-op when the jars are current), so a first `kafka:up` or
 * test run on a fresh clone just works. Its progress goes to stderr; a failure throws
 * the script's own message, which names what to install.
 */
export function ensureJars(dir: string = defaultJarsDir): JarsInfo {
  const run = spawnSync(process.execPath, [fetchJarsScript, '--out', dir, '--quiet'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  process.stderr.write(run.stderr ?? '');
  if (run.error) throw new Error(`could not run ${fetchJarsScript}: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(`fetching the Kafka jars failed:\n${(run.stderr ?? '').trim()}`);
  }
  const jars = findJars(dir);
  if (!jars) throw new Error(`fetch-jars.mjs succeeded but left no ${JARS_MARKER} in ${dir}`);
  return jars;
}
