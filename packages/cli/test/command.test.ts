import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommandFailure, createCommand, exitQuietlyOnEpipe, createProgress, decimal, decimalList, decimalOr, integer, namedInteger, Option, runCommand } from '../src/index.js';

function harness() {
  const out: string[] = [];
  const err: string[] = [];
  const output = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
  const program = createCommand('generate', 'writes a synthetic cohort', output)
    .option('--patients <n>', 'how many patients', integer({ min: 1, max: 100_000 }), 200)
    .option('--rate <p>', 'deterioration rate', decimal({ min: 0, max: 1 }), 0.2)
    .option('--speed <x>', 'replay speed', decimalOr(['max'] as const, { min: 0, exclusiveMin: true }), 60)
    .option('--split <fractions>', 'train,validation,test', decimalList({ min: 0, max: 1 }, 3))
    .option('--port <name=port>', 'a port', namedInteger(['producer', 'sink'], { min: 1, max: 65_535 }))
    .addOption(new Option('--source <kind>', 'where from').choices(['synthetic', 'meds']).default('synthetic'));
  let ran: Record<string, unknown> | null = null;
  const run = (argv: string[], action?: () => Promise<number | void>) =>
    runCommand(program, argv, action ?? (async (p) => void (ran = p.opts())), output);
  return { out, err, run, ran: () => ran };
}

describe('the command convention', () => {
  it('--help prints the usage with every option, exits 0, and runs nothing', async () => {
    const h = harness();
    expect(await h.run(['--help'])).toBe(0);
    expect(h.ran()).toBeNull();
    expect(h.out.join('')).toMatch(/^Usage: generate \[options\]/);
    expect(h.out.join('')).toContain('--patients <n>');
    expect(h.err).toEqual([]);
  });

  it('an unknown flag: one line naming it, then the usage, exit 2, no stack, nothing run', async () => {
    const h = harness();
    expect(await h.run(['--bogus'])).toBe(2);
    expect(h.ran()).toBeNull();
    const text = h.err.join('');
    expect(text.split('\n')[0]).toBe("error: unknown option '--bogus'");
    expect(text).toContain('Usage: generate');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--patients', 'abc'], "option '--patients <n>' argument 'abc' is invalid. expected a whole number from 1 to 100000."],
    [['--patients', '2.5'], 'expected a whole number from 1 to 100000.'],
    [['--rate', '2'], "option '--rate <p>' argument '2' is invalid. expected a number from 0 to 1."],
    [['--speed', '0'], "expected 'max' or a number above 0."],
    [['--speed', 'abc'], "expected 'max' or a number above 0."],
    [['--split', '0.6,0.4'], 'expected 3 numbers from 0 to 1, separated by commas.'],
    [['--port', 'kafka=1'], 'expected NAME=NUMBER with NAME one of producer, sink.'],
    [['--source', 'csv'], 'Allowed choices are synthetic, meds.'],
    [['extra'], 'too many arguments'],
  ])('a bad value %j names the option and what it accepts, exit 2', async (argv, message) => {
    const h = harness();
    expect(await h.run(argv)).toBe(2);
    expect(h.err.join('').split('\n')[0]).toContain(message);
    expect(h.ran()).toBeNull();
  });

  it('parses good values into numbers, words and maps', async () => {
    const h = harness();
    expect(await h.run(['--patients', '12', '--rate', '0.5', '--speed', 'max', '--split', '0.6,0.2,0.2', '--port', 'sink=4004'])).toBe(0);
    expect(h.ran()).toMatchObject({ patients: 12, rate: 0.5, speed: 'max', split: [0.6, 0.2, 0.2], source: 'synthetic' });
    expect((h.ran() as { port: Map<string, number> }).port.get('sink')).toBe(4004);
  });

  it('a failure in the work is `name: message` without a stack (exit 1); a usage failure adds the usage (exit 2)', async () => {
    const h = harness();
    expect(await h.run([], async () => Promise.reject(new Error('no such file: x.parquet')))).toBe(1);
    expect(h.err.join('')).toBe('generate: no such file: x.parquet\n');
    const u = harness();
    expect(await u.run([], async () => Promise.reject(new CommandFailure('--file is required with --source meds', 2)))).toBe(2);
    expect(u.err.join('')).toMatch(/^generate: --file is required with --source meds\nUsage: generate/);
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) }) as unknown as NodeJS.WriteStream;
    (stream as { isTTY: boolean }).isTTY = isTTY;
    return { stream, chunks };
  };

  it('in a log: a JSON line at most every logEveryMs, and a last one with the rate', () => {
    const { stream, chunks } = sink(false);
    let t = 0;
    const p = createProgress({ label: 'generating', total: 100, unit: 'patients', stream, logEveryMs: 1000, now: () => t });
    for (let i = 0; i < 100; i++) {
      t += 50;
      p.increment();
    }
    p.stop();
    const lines = chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(5 + 1);
    expect(lines.at(-1)).toMatchObject({ msg: 'generating: done', done: 100, total: 100, unit: 'patients', ratePerSecond: 20, seconds: 5 });
  });

  it('on a terminal: a bar with the count, the rate and an ETA', () => {
    const { stream, chunks } = sink(true);
    const p = createProgress({ label: 'training', total: 10, unit: 'trees', stream });
    p.update(5);
    p.stop();
    expect(chunks.join('')).toMatch(/training \[.*\] \d+% \| \d+\/10 trees \| \d+ trees\/s \| ETA /);
  });
});

describe('a reader that goes away', () => {
  it('ends the command quietly on EPIPE (help piped into head), and still throws any other stdout error', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const exits: number[] = [];
    exitQuietlyOnEpipe(stream, (code) => exits.push(code));
    exitQuietlyOnEpipe(stream, (code) => exits.push(code)); // once only
    expect(stream.listenerCount('error')).toBe(1);
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(exits).toEqual([0]);
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });
});
