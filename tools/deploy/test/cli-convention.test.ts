// Every command of the repository follows one convention (@ehr/cli): --help prints the
// usage and exits 0 without doing anything; an unknown flag prints one line naming it and
// the usage, exits 2, and never a stack trace; a bad number names its flag and the rule.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot, SERVICE_NAMES } from '../src/services.js';

const root = findRepoRoot();

/** npm script (or service) → its built entry point (what `npm run <script> -- …` runs after the build). */
const COMMANDS: Record<string, string> = {
  generate: 'packages/cohort/dist/cli/generate.js',
  'kafka:up': 'tools/kafka-local/dist/cli/kafka-up.js',
  'kafka:down': 'tools/kafka-local/dist/cli/kafka-down.js',
  'kafka:jars': 'tools/kafka-local/scripts/fetch-jars.mjs',
  'docs:config': 'apps/pipeline/dist/cli/config-doc.js',
  'snowflake-test-server': 'tools/snowflake-test-server/dist/cli.js',
  produce: 'services/producer/dist/cli/produce.js',
  start: 'apps/pipeline/dist/main.js',
  stack: 'tools/deploy/dist/cli/stack.js',
  'compose:tokens': 'tools/deploy/dist/cli/compose-tokens.js',
  'alerts:replay': 'packages/alerts-replay/dist/cli/replay.js',
  // Compose's one-shot steps.
  'init model': 'apps/init/dist/cli/model.js',
  'init topics': 'apps/init/dist/cli/topics.js',
  // Each service run alone (an image's CMD, npm run stack's processes): configured by the environment, no flags.
  ...Object.fromEntries(SERVICE_NAMES.map((s) => [`service ${s}`, `services/${s}/dist/main.js`])),
};

/** A bad value for each command that takes numbers, and what the first line must say. */
const BAD_NUMBERS: Record<string, [args: string[], firstLine: string]> = {
  generate: [['--patients', 'many'], "error: option '--patients <n>' argument 'many' is invalid. expected a whole number from 1 to 100000."],
  produce: [['--speed', 'abc'], "error: option '--speed <x>' argument 'abc' is invalid. expected 'max' or a number above 0."],
  'alerts:replay': [['--model', 'm.json', '--data', 'd.parquet', '--horizon', '0'], "error: option '--horizon <hours>' argument '0' is invalid. expected a number from 0 (exclusive) to 168."],
  stack: [['--port', 'producer=99999'], "error: option '--port <name=port>' argument 'producer=99999' is invalid. expected a whole number from 1 to 65535."],
};

/** What a command writes in the repository rather than its working directory (tokens, models). */
const REPO_TRACES = ['.env', 'data/stack-tokens.env', 'data/model/severity-model.json'];
const snapshot = () => REPO_TRACES.map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : null));

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
}, 120_000);

describe.each(Object.entries(COMMANDS))('%s', (name, entry) => {
  // An empty working directory: a command that did any work would leave a trace here.
  const run = (args: string[]) => {
    const cwd = mkdtempSync(join(tmpdir(), 'cli-'));
    const env = { ...process.env, KAFKA_LOCAL_HOME: join(cwd, '.kafka'), KAFKA_BROKERS: '' };
    const before = snapshot();
    const result = spawnSync(process.execPath, [join(root, entry), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    expect(snapshot(), 'files in the repository').toEqual(before);
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

  it.runIf(name in BAD_NUMBERS)('a bad number: one line naming the flag and the rule, then the usage; exit 2; nothing done', () => {
    const [args, firstLine] = BAD_NUMBERS[name]!;
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(firstLine);
    expect(r.stderr).toContain('Usage: ');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(readdirSync(r.cwd)).toEqual([]);
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
