// For a command whose work is the rest of its module (a server, a stack of processes):
// the arguments are settled first, and --help or a bad flag ends the process before
// anything starts, with the same output and exit codes as runCommand.
import type { Command } from 'commander';
import { runCommand, type CommandOutput } from './command.js';

/** Parses `argv`; returns the program when the work should go on, else exits 0 (--help) or 2 (bad usage). */
export async function parseOrExit(program: Command, argv: readonly string[] = process.argv.slice(2), exit: (code: number) => never = (code) => process.exit(code), output?: CommandOutput): Promise<Command> {
  let go = false;
  const code = await runCommand(program, argv, () => void (go = true), output);
  return go ? program : exit(code);
}
