// The training commands follow @ehr/cli's convention: values parsed and ranged while the
// arguments are read (exit 2 naming the option, before any data is built), options that do
// not go together named the same way, and progress as bars on a terminal, JSON lines in a log.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandProgress } from '../src/cli-progress.js';
import { parseTrainArgs } from '../src/index.js';

const cli = (name: string) => fileURLToPath(new URL(`../dist/cli/${name}.js`, import.meta.url));

/** Runs a built command in an empty directory: anything it built or wrote would show there. */
function run(name: string, args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'ehr-training-cli-'));
  const started = Date.now();
  const r = spawnSync(process.execPath, [cli(name), ...args], { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, PHYSIONET_PATH: join(cwd, 'none') } });
  return { ...r, ms: Date.now() - started, left: readdirSync(cwd) };
}

describe('training command lines', () => {
  it.each([
    ['train', ['--max-features', 'foo'], "option '--max-features <n>' argument 'foo' is invalid"],
    ['train', ['--max-features', '1.5'], 'a fraction between 0 and 1, or a whole number of at least 1'],
    ['train', ['--trees', '0'], "option '--trees <n>' argument '0' is invalid. expected a whole number of at least 1."],
    ['train', ['--deterioration-rate', '2'], 'expected a number from 0 to 1.'],
    ['train', ['--split', '0,0.5,0.5'], 'expected a train share above 0.'],
    ['train', ['--seed', '-1'], "option '--seed <n>' argument '-1' is invalid"],
    ['train', ['--calibration', 'magic'], 'Allowed choices are isotonic, platt, none.'],
    ['train', ['--data', 'a', '--meds', 'b'], 'train: give one source: --data, --meds, --physionet or --synthetic'],
    ['train', ['--class-weight', 'none'], 'train: --class-weight none applies to --physionet'],
    ['evaluate', ['--model', 'm.json', '--data', 'x.parquet', '--horizon', 'soon'], "option '--horizon <h>' argument 'soon' is invalid"],
    ['evaluate', ['--model', 'm.json'], 'evaluate: --data is required'],
    ['bench-train', ['--rows', '1000', '--out', 'b', '--max-features', 'foo'], "option '--max-features <n>' argument 'foo' is invalid"],
    ['bench-train', ['--out', 'b'], 'bench:train: --rows is required'],
    ['bench-physionet', ['--stays', 'many'], "option '--stays <n>' argument 'many' is invalid"],
  ])('%s %j: one line naming it, then the usage; exit 2; nothing built or written', (name, args, message) => {
    const r = run(name, args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(message);
    expect(r.stderr).toContain('Usage: ');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(r.stdout).toBe('');
    expect(r.left).toEqual([]);
  });

  it('a failure in the work is one line without a stack, exit 1', () => {
    const r = run('train', ['--physionet', '--trees', '3']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^train: no PhysioNet data: set PHYSIONET_PATH/);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('parses values into what the pipelines take (the same options as before)', () => {
    // A directory of .psv files (an empty one is no data).
    const psv = mkdtempSync(join(tmpdir(), 'cli-psv-'));
    writeFileSync(join(psv, 'p000001.psv'), 'HR|SepsisLabel\n80|0\n');
    const c = parseTrainArgs(['--split', '3,1,1', '--max-features', '0.25', '--balanced', 'none', '--physionet', '--tune'], { PHYSIONET_PATH: psv });
    expect(c).toMatchObject({ mode: 'train-physionet', options: { split: { train: 0.6, validation: 0.2, test: 0.2 }, forest: { maxFeatures: 0.25, balancedBootstrap: null }, tune: {} } });
    expect(parseTrainArgs(['--max-features', '40', '--workers', '1'])).toMatchObject({ mode: 'train', options: { forest: { maxFeatures: 40, workers: 1 } } });
    expect(parseTrainArgs(['--help'])).toEqual({ mode: 'help' });
    expect(() => parseTrainArgs(['--hours', '0'])).toThrow(/--hours/);
  });
});

describe('training progress on a command line', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) }) as unknown as NodeJS.WriteStream;
    (stream as { isTTY: boolean }).isTTY = isTTY;
    return { stream, text: () => chunks.join('') };
  };

  it('on a terminal: a line per stage and a bar per long step, with its count and unit', () => {
    const s = sink(true);
    const p = commandProgress(s.stream);
    p.stage('training');
    for (let t = 1; t <= 10; t++) p.trees(t, 10);
    p.stays(5, 20);
    p.done();
    expect(s.text()).toContain('training…\n');
    expect(s.text()).toMatch(/growing trees \[[^\]]*\] 100% \| 10\/10 trees/);
    expect(s.text()).toMatch(/featurizing \[[^\]]*\] \d+% \| 5\/20 stays/);
  });

  it('in a log: JSON lines only (a stage, a finished step), no bar', () => {
    const s = sink(false);
    const p = commandProgress(s.stream);
    p.stage('training');
    for (let t = 1; t <= 10; t++) p.trees(t, 10);
    p.events(5000, null);
    p.warn('MEDS rows: 1 row(s) skipped: no code (first at row index 3)');
    p.done();
    const lines = s.text().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; done?: number });
    expect(lines.map((l) => l.msg)).toEqual(['training', 'growing trees: done', 'MEDS rows: 1 row(s) skipped: no code (first at row index 3)']);
    expect(lines[2]!.level).toBe('warn');
    expect(lines[1]!.done).toBe(10);
    expect(s.text()).not.toContain('\r');
  });
});
