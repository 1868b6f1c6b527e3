import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, isKafkaBroker, terminate } from '../src/process.js';

const children: ChildProcess[] = [];
afterEach(() => children.splice(0).forEach((child) => child.kill('SIGKILL')));

async function nodeChild(code: string): Promise<number> {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await once(child.stdout, 'data'); // the script says it is ready
  return child.pid!;
}

describe('process control by pid', () => {
  it('isAlive tells a running process from an exited one', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '0']);
    await once(child, 'exit');
    expect(isAlive(child.pid!)).toBe(false);
  });

  it('isKafkaBroker does not take any live process for a broker', () => {
    const linux = process.platform === 'linux';
    expect(isKafkaBroker(process.pid, '/nowhere/server.properties')).toBe(!linux);
  });

  it('terminate ends a process with SIGTERM', async () => {
    const pid = await nodeChild('setInterval(() => {}, 1000); process.stdout.write("up\\n")');
    expect(await terminate(pid, 5_000)).toBe('terminated');
    expect(isAlive(pid)).toBe(false);
  });

  it('terminate falls back to SIGKILL when SIGTERM is ignored', async () => {
    const pid = await nodeChild('process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); process.stdout.write("up\\n")');
    expect(await terminate(pid, 300)).toBe('killed');
    expect(isAlive(pid)).toBe(false);
  });

  it('terminate says so when nothing runs under the pid', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    await once(child, 'exit');
    expect(await terminate(child.pid!, 100)).toBe('not-running');
  });
});
