// kafka:up's record of the broker it left running: <home>/broker.json.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process.js';

export interface BrokerState {
  pid: number;
  brokers: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  propertiesFile: string;
  logFile: string;
  kafkaVersion: string;
  startedAt: string;
}

export const stateFile = (home: string): string => join(home, 'broker.json');

/** The recorded broker, or undefined when there is none (a corrupt file counts as none). */
export function readState(home: string): BrokerState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<BrokerState>;
    if (typeof parsed.pid !== 'number' || typeof parsed.brokers !== 'string') return undefined;
    return parsed as BrokerState;
  } catch {
    return undefined;
  }
}

export function writeState(home: string, state: BrokerState): void {
  mkdirSync(home, { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  const tmp = `${stateFile(home)}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(home));
}

/** Removes broker.json and the broker's data (the log file stays for a post-mortem). */
export function removeState(home: string, dataDir: string = join(home, 'data')): void {
  rmSync(stateFile(home), { force: true });
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Serializes kafka:up runs on one home: without it a second run could see no state yet
 * and wipe the data folder of a broker that is still starting. Waits for a live holder
 * (calling `onWait` once), takes over a stale lock, returns the release function.
 */
export async function acquireStartLock(
  home: string,
  { timeoutMs = 180_000, onWait }: { timeoutMs?: number; onWait?: (holderPid: number) => void } = {},
): Promise<() => void> {
  mkdirSync(home, { recursive: true });
  const lock = join(home, 'up.lock');
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(lock, 'utf8').trim() || 0);
    if (!holder || !isAlive(holder)) {
      rmSync(lock, { force: true }); // its holder died mid-start
      continue;
    }
    if (!waited) onWait?.(holder);
    waited = true;
    if (Date.now() > deadline) throw new Error(`another kafka:up (pid ${holder}) still holds ${lock}`);
    await sleep(200);
  }
}
