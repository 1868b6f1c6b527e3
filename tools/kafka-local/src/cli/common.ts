// What both CLIs share. They are CLIs, not services: plain lines on stdout/stderr (the
// command-line convention itself is @ehr/cli's).

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A TCP port from the environment, or `fallback` when unset; a clear error naming the variable otherwise. */
export function parsePort(variable: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${variable} must be a TCP port (1-65535), got '${raw}'`);
  }
  return port;
}
