// Every command of the repository follows one convention (@ehr/cli): --help prints the
// usage and exits 0 without doing anything; an unknown flag prints one line naming it and
// the usage, exits 2, and never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../src/services.js';

const root = findRepoRoot();

/** npm script → its built entry point (what `npm run <script> -- …` runs after the build). */
const COMMANDS: Record<string, string> = {
  generate: 'packages/cohort/dist/cli/generate.js',
  'kafka:up': 'tools/kafka-local/dist/cli/kafka-up.js',
  'kafka:down': 'tools/kafka-local/dist/cli/kafka-down.js',
  'kafka:jars': 'tools/kafka-local/scripts/fetch-jars.mjs',
  'docs:config': 'apps/pipeline/dist/cli/config-doc.js',
  'snowflake-test-server': 'tools/snowflake-test-server/dist/cli.js',
};

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
}, 120_000);

describe.each(Object.entries(COMMANDS))('npm run %s', (name, entry) => {
  // An empty working directory: a command that did any work would leave a trace here.
  const run = (args: string[]) => {
    const cwd = mkdtempSync(join(tmpdir(), 'cli-'));
    const env = { ...process.env, KAFKA_LOCAL_HOME: join(cwd, '.kafka'), KAFKA_BROKERS: '' };
    const result = spawnSync(process.execPath, [join(root, entry), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    return { ...result, cwd };
  };

  it('--help: the usage on stdout, exit 0, nothing done', () => {
    const r = run(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(existsSync(join(r.cwd, '.kafka')) || readdirSync(r.cwd).length > 0).toBe(false);
  });

  it('an unknown flag: one line naming it, then the usage; exit 2; no stack trace', () => {
    const r = run(['--no-such-flag']);
    expect(r.status).toBe(2);
    const [first] = r.stderr.split('\n');
    expect(first).toMatch(/^error: unknown option '--no-such-flag'|^error: Unknown option '--no-such-flag'/);
    expect(r.stderr).toContain('Usage: ');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});

// Training's commands (@ehr/training): the same convention, and a bad value fails while the
// arguments are read, before any data is built (nothing left in the working directory).
const TRAINING_COMMANDS: Record<string, { entry: string; badValue: string[]; option: string }> = {
  train: { entry: 'packages/training/dist/cli/train.js', badValue: ['--max-features', 'foo'], option: '--max-features <n>' },
  evaluate: { entry: 'packages/training/dist/cli/evaluate.js', badValue: ['--model', 'm.json', '--data', 'x.parquet', '--bootstrap', 'abc'], option: '--bootstrap <n>' },
  'bench:train': { entry: 'packages/training/dist/cli/bench-train.js', badValue: ['--rows', '1000', '--out', 'b', '--max-features', 'foo'], option: '--max-features <n>' },
  'bench:physionet': { entry: 'packages/training/dist/cli/bench-physionet.js', badValue: ['--trees', '0'], option: '--trees <n>' },
};

describe.each(Object.entries(TRAINING_COMMANDS))('npm run %s (training)', (_name, { entry, badValue, option }) => {
  const run = (args: string[]) => {
    const cwd = mkdtempSync(join(tmpdir(), 'cli-'));
    const result = spawnSync(process.execPath, [join(root, entry), ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PHYSIONET_PATH: join(cwd, 'none') } });
    return { ...result, cwd };
  };

  it('--help: the usage on stdout, exit 0, nothing done', () => {
    const r = run(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('an unknown flag: one line naming it, then the usage; exit 2; no stack trace', () => {
    const r = run(['--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: unknown option '--no-such-flag'");
    expect(r.stderr).toContain('Usage: ');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('a bad value: one line naming the option, the usage, exit 2, before any data is built', () => {
    const r = run(badValue);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(`option '${option}' argument`);
    expect(r.stderr).toContain('Usage: ');
    expect(readdirSync(r.cwd)).toEqual([]);
  });
});
