// npm run produce: its arguments checked before anything opens, and its progress display.
import { Writable } from 'node:stream';
import { runCommand } from '@ehr/cli';
import { describe, expect, it } from 'vitest';
import { createProduceProgram, type ProduceOptions } from '../src/cli/produce-program.js';
import { createProgressDisplay } from '../src/cli/progress.js';

async function parse(argv: string[]) {
  const err: string[] = [];
  const output = { out: () => undefined, err: (t: string) => void err.push(t) };
  let opts: ProduceOptions | null = null;
  const code = await runCommand(createProduceProgram(output), argv, (p) => void (opts = p.opts<ProduceOptions>()), output);
  return { code, opts: opts as ProduceOptions | null, first: err.join('').split('\n')[0] ?? '' };
}

describe('produce arguments', () => {
  it('parses numbers, speeds written x60 or 60x, and --no-shift', async () => {
    const r = await parse(['--source', 'meds', '--speed', 'x60', '--rate', '200', '--seed', '7', '--patients', '20', '--hours', '1.5', '--limit', '0', '--no-shift', '--to', 'kafka']);
    expect(r.code).toBe(0);
    expect(r.opts).toMatchObject({ source: 'meds', speed: 60, rate: 200, seed: 7, patients: 20, hours: 1.5, limit: 0, shift: false, to: 'kafka' });
    expect((await parse(['--speed', 'max'])).opts).toMatchObject({ source: 'synthetic', speed: 'max', shift: true });
    expect((await parse(['--speed', '120x'])).opts?.speed).toBe(120);
  });

  it.each([
    [['--speed', 'abc'], "option '--speed <x>' argument 'abc' is invalid. expected 'max' or a number above 0."],
    [['--speed', '0'], "option '--speed <x>' argument '0' is invalid"],
    [['--rate', '-1'], "option '--rate <events/s>' argument '-1' is invalid. expected a number from 0 (exclusive) to 1000000."],
    [['--patients', '0'], "option '--patients <n>' argument '0' is invalid"],
    [['--seed', '1.5'], "option '--seed <n>' argument '1.5' is invalid. expected a whole number"],
    [['--artefact-rate', '0.5'], "option '--artefact-rate <p>' argument '0.5' is invalid. expected a number from 0 to 0.2."],
    [['--limit', 'ten'], "option '--limit <events>' argument 'ten' is invalid"],
    [['--to', 'ftp://x'], "option '--to <target>' argument 'ftp://x' is invalid. expected 'kafka' or an http(s) URL"],
    [['--source', 'hl7'], "option '--source <kind>' argument 'hl7' is invalid. Allowed choices are synthetic, meds, csv, physionet."],
  ])('%j: one line naming the flag and the rule, exit 2, nothing run', async (argv, message) => {
    const r = await parse(argv);
    expect(r.code).toBe(2);
    expect(r.opts).toBeNull();
    expect(r.first).toContain(message);
  });
});

describe('produce progress', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString()), done()) }) as unknown as NodeJS.WriteStream;
    (stream as { isTTY: boolean }).isTTY = isTTY;
    return { stream, text: () => chunks.join('') };
  };
  const at = (published: number, done = false) => ({ published, eventTime: '2026-01-01T00:00:00.000Z', elapsedMs: published * 10, done });

  it('on a terminal, with a known number of events: a bar with rate and ETA', () => {
    const { stream, text } = sink(true);
    const d = createProgressDisplay({ total: 1000, stream, logger: { info: () => undefined } });
    d.show(at(500));
    d.show(at(1000, true));
    d.end();
    expect(text()).toMatch(/producing \[.*\] \d+% \| \d+\/1000 events \| \d+ events\/s \| ETA /);
  });

  it('on a terminal, endless: a counter with the rate, finished with a newline', () => {
    const { stream, text } = sink(true);
    let t = 0;
    const d = createProgressDisplay({ total: undefined, stream, logger: { info: () => undefined }, now: () => (t += 1000) });
    d.show(at(100));
    d.end();
    expect(text()).toBe('\r\x1b[Kpublished 100 events · 100/s · event time 2026-01-01T00:00:00.000Z\n');
  });

  it('in a log: a JSON log line at most every 5 s and the last one, nothing on the stream', () => {
    const { stream, text } = sink(false);
    const logged: unknown[] = [];
    let t = 0;
    const d = createProgressDisplay({ total: 1000, stream, logger: { info: (o: unknown) => void logged.push(o) }, now: () => t });
    for (let i = 1; i <= 10; i++) {
      t += 1000;
      d.show(at(i * 100, i === 10));
    }
    d.end();
    expect(logged).toHaveLength(2);
    expect(logged.at(-1)).toMatchObject({ published: 1000, eventsPerSecond: 100, done: true });
    expect(text()).toBe('');
  });
});
