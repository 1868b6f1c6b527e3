import { describe, expect, it } from 'vitest';
import { createCommand, integer, parseOrExit } from '../src/index.js';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

describe('parseOrExit', () => {
  const output = { out: () => undefined, err: () => undefined };
  const program = () => createCommand('stack', 'runs every service', output).option('--port <n>', 'a port', integer({ min: 1, max: 65_535 }));
  const exit = (code: number): never => {
    throw new Exit(code);
  };

  it('returns the parsed program when the work should go on', async () => {
    expect((await parseOrExit(program(), ['--port', '4001'], exit, output)).opts()).toEqual({ port: 4001 });
  });

  it.each([
    [['--help'], 0],
    [['--bogus'], 2],
    [['--port', '0'], 2],
  ])('%j ends before anything starts, exit %i', async (argv, code) => {
    await expect(parseOrExit(program(), argv, exit, output)).rejects.toEqual(new Exit(code));
  });
});
