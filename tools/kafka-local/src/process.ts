// A broker is stopped by its process id, never by name. Before signalling a pid read
// from a state file we check it still is that broker (pids are reused).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whether `pid` is a running process. A zombie counts as gone: here a detached broker is
 * re-parented to a PID 1 that may never reap it, and `kill(pid, 0)` succeeds on zombies.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProc(pid, 'stat');
  // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces and parentheses.
  const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The process's command line, or undefined where /proc is not available (macOS). */
export function commandLine(pid: number): string[] | undefined {
  return readProc(pid, 'cmdline')?.split('\0').filter(Boolean);
}

/**
 * Whether `pid` is the Kafka broker started from `propertiesFile`. Without /proc we
 * cannot tell and trust the state file.
 */
export function isKafkaBroker(pid: number, propertiesFile: string): boolean {
  if (!isAlive(pid)) return false;
  const argv = commandLine(pid);
  if (argv === undefined) return true;
  return argv.includes('kafka.Kafka') && argv.includes(propertiesFile);
}

/** Waits up to `timeoutMs` for `pid` to be gone; true when it is. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * SIGTERM (Kafka shuts down cleanly on it), then SIGKILL if it is still there after
 * `graceMs`. Resolves with how it ended.
 */
export async function terminate(pid: number, graceMs = 30_000): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!signal(pid, 'SIGTERM')) return 'not-running';
  if (await waitForExit(pid, graceMs)) return 'terminated';
  signal(pid, 'SIGKILL');
  if (await waitForExit(pid, 10_000)) return 'killed';
  throw new Error(`process ${pid} survived SIGKILL for 10 s`);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}
