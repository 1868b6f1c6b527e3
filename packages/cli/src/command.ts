// One command-line convention for every command of the repository, on commander:
//   --help / -h   prints the usage, exits 0, does nothing else;
//   a bad flag    prints one line naming it, then the usage, exits 2, no stack trace;
//   a failure     prints `<name>: <message>` (no stack), exits 1 (or the error's exitCode).
// A command parses its arguments before it does any work, so --help never has a side effect.
import { Command, CommanderError } from 'commander';

export { Command, InvalidArgumentError, Option } from 'commander';

export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * A reader that went away (`npm run x -- --help | head -1`) is not a failure of the
 * command: stdout's EPIPE ends the process quietly, with the exit code it has so far,
 * instead of an unhandled 'error' event's stack trace.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (stream.listeners('error').includes(onStdoutError)) return;
  stdoutExit = exit;
  stream.on('error', onStdoutError);
}
let stdoutExit: (code: number) => void = (code) => process.exit(code);
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') {
    stdoutExit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    return;
  }
  throw err;
}

const processOutput: CommandOutput = {
  out: (t) => {
    exitQuietlyOnEpipe();
    process.stdout.write(t);
  },
  err: (t) => void process.stderr.write(t),
};

/** A commander program with the repository's conventions: usage on errors, exit codes by kind. */
export function createCommand(name: string, summary: string, output: CommandOutput = processOutput): Command {
  return new Command(name)
    .description(summary)
    .helpOption('-h, --help', 'print this usage and exit')
    .showHelpAfterError()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride();
}

/** Thrown by a command to fail with a message and a chosen exit code (2: bad usage). */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Parses `argv` (the user's arguments, without node and the script) and runs `action`.
 * Resolves the exit code; never throws for bad input.
 */
export async function runCommand(
  program: Command,
  argv: readonly string[],
  action: (program: Command) => Promise<number | void> | number | void,
  output: CommandOutput = processOutput,
): Promise<number> {
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? 0 : 2;
    throw err;
  }
  try {
    return (await action(program)) ?? 0;
  } catch (err) {
    const failure = err instanceof CommandFailure ? err : null;
    output.err(`${program.name()}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (failure?.exitCode === 2) output.err(program.helpInformation());
    return failure?.exitCode ?? 1;
  }
}

/** A CLI's entry point: runs the command on `process.argv` and sets the exit code. */
export async function main(program: Command, action: (program: Command) => Promise<number | void> | number | void): Promise<void> {
  process.exitCode = await runCommand(program, process.argv.slice(2), action);
}
