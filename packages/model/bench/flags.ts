// The command-line flags the comparison benchmarks share: `--name value`, nothing fancier,
// as they are run by hand with the flags their header comments show.

/** `--name`'s value as a number, or the fallback when the flag is absent. */
export function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--name`'s value; the benchmark cannot run without it. */
export function requiredFlag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1]!;
}
