import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localHome, repoRoot } from '../src/paths.js';
import { acquireStartLock, readState, removeState, stateFile, writeState, type BrokerState } from '../src/state.js';

const homes: string[] = [];
afterEach(() => homes.splice(0).forEach((home) => rmSync(home, { recursive: true, force: true })));
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'kafka-local-state-'));
  homes.push(home);
  return home;
};

const state = (home: string): BrokerState => ({
  pid: 4242,
  brokers: '127.0.0.1:9092',
  port: 9092,
  controllerPort: 9093,
  dataDir: join(home, 'data'),
  propertiesFile: join(home, 'data', 'server.properties'),
  logFile: join(home, 'broker.log'),
  kafkaVersion: '3.9.2',
  startedAt: '2026-01-01T00:00:00.000Z',
});

describe('broker.json', () => {
  it('round-trips the recorded broker', () => {
    const home = join(newHome(), 'not-yet-created');
    writeState(home, state(home));
    expect(readState(home)).toEqual(state(home));
  });

  it('reads no state when there is no file or a corrupt one', () => {
    const home = newHome();
    expect(readState(home)).toBeUndefined();
    writeFileSync(stateFile(home), '{"pid": 12');
    expect(readState(home)).toBeUndefined();
    writeFileSync(stateFile(home), '{"pid": "12"}');
    expect(readState(home)).toBeUndefined();
  });

  it('removeState drops the file and the data but keeps the log', () => {
    const home = newHome();
    writeState(home, state(home));
    mkdirSync(join(home, 'data', 'kraft'), { recursive: true });
    writeFileSync(join(home, 'broker.log'), 'last words\n');
    removeState(home);
    expect(existsSync(stateFile(home))).toBe(false);
    expect(existsSync(join(home, 'data'))).toBe(false);
    expect(existsSync(join(home, 'broker.log'))).toBe(true);
  });
});

describe('localHome', () => {
  it('is <repo>/.kafka unless KAFKA_LOCAL_HOME says otherwise', () => {
    expect(localHome({})).toBe(join(repoRoot, '.kafka'));
    expect(localHome({ KAFKA_LOCAL_HOME: '/tmp/elsewhere' })).toBe('/tmp/elsewhere');
    expect(existsSync(join(repoRoot, 'tools', 'kafka-local', 'package.json'))).toBe(true);
  });
});

describe('acquireStartLock', () => {
  it('lets one holder in at a time and waits for the other', async () => {
    const home = newHome();
    const release = await acquireStartLock(home);
    const waitedFor: number[] = [];
    let secondIn = false;
    const second = acquireStartLock(home, { onWait: (pid) => waitedFor.push(pid) }).then((releaseSecond) => {
      secondIn = true;
      return releaseSecond;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondIn).toBe(false);
    expect(waitedFor).toEqual([process.pid]);
    release();
    (await second)();
    expect(secondIn).toBe(true);
  });

  it('takes over the lock of a holder that died', async () => {
    const home = newHome();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(home, 'up.lock'), String(dead));
    const release = await acquireStartLock(home, { timeoutMs: 1_000 });
    expect(readFileSync(join(home, 'up.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(home, 'up.lock'))).toBe(false);
  });
});
