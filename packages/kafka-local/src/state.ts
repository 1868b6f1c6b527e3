// kafka:up's record of the broker it left running: <home>/broker.json.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
