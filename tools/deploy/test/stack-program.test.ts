// npm run stack's arguments: checked before a broker or a service starts.
import { runCommand } from '@ehr/cli';
import { describe, expect, it } from 'vitest';
import { createStackProgram, stackArguments, type StackArguments } from '../src/cli/stack-program.js';

async function parse(argv: string[]) {
  const err: string[] = [];
  const output = { out: () => undefined, err: (t: string) => void err.push(t) };
  let args: StackArguments | null = null;
  const code = await runCommand(createStackProgram(output), argv, (p) => void (args = stackArguments(p)), output);
  return { code, args: args as StackArguments | null, first: err.join('').split('\n')[0] ?? '' };
}

describe('stack arguments', () => {
  it('every service by default; a chosen few and repeated --port NAME=PORT', async () => {
    expect((await parse([])).args).toEqual({ services: ['producer', 'feature', 'scoring', 'sink', 'alerting', 'dashboard'], ports: {} });
    expect((await parse(['--services', 'producer, feature', '--port', 'producer=4001', '--port', 'feature=4002'])).args).toEqual({
      services: ['producer', 'feature'],
      ports: { producer: 4001, feature: 4002 },
    });
  });

  it.each([
    [['--services', 'producer,kafka'], "option '--services <names>' argument 'producer,kafka' is invalid. unknown service 'kafka'"],
    [['--services', ','], 'no service named'],
    [['--port', 'kafka=9092'], "option '--port <name=port>' argument 'kafka=9092' is invalid. expected NAME=NUMBER with NAME one of producer"],
    [['--port', 'sink=0'], "option '--port <name=port>' argument 'sink=0' is invalid. expected a whole number from 1 to 65535."],
    [['--port', 'sink=abc'], 'expected a whole number from 1 to 65535.'],
  ])('%j: one line naming the flag and the rule, exit 2', async (argv, message) => {
    const r = await parse(argv);
    expect(r.code).toBe(2);
    expect(r.args).toBeNull();
    expect(r.first).toContain(message);
  });
});
