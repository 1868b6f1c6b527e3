// kafka:up / kafka:down as a developer runs them, against a temp state home and a free
// port so the developer's own .kafka and 9092 are untouched.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { packageDir } from '../../src/paths.js';
import { freePorts } from '../../src/ports.js';
import { isAlive, terminate } from '../../src/process.js';
import { readState, stateFile } from '../../src/state.js';

const home = mkdtempSync(join(tmpdir(), 'kafka-local-cli-'));
const [port] = await freePorts(1);
const env = { ...process.env, KAFKA_LOCAL_HOME: home, KAFKA_PORT: String(port) };

async function cli(name: 'kafka-up' | 'kafka-down', extraEnv: Record<string, string> = {}) {
  const script = join(packageDir, 'dist', 'cli', `${name}.js`);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { env: { ...env, ...extraEnv } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

afterAll(async () => {
  const left = readState(home);
  if (left) await terminate(left.pid, 10_000); // only if an assertion failed mid-way
  rmSync(home, { recursive: true, force: true });
});

describe('kafka:up / kafka:down', () => {
  it.each([1, 2])('up, up again, down, down again (round %i)', async () => {
    const up = await cli('kafka-up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`kafka ready: 127.0.0.1:${port}`);
    expect(up.stdout).toContain(`export KAFKA_BROKERS=127.0.0.1:${port}`);
    const state = readState(home)!;
    expect(state.brokers).toBe(`127.0.0.1:${port}`);
    expect(isAlive(state.pid)).toBe(true);
    expect(existsSync(join(home, 'data', 'kraft', 'meta.properties'))).toBe(true);

    const admin = new Kafka({ clientId: 'kafka-local-cli-test', brokers: [state.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await expect(admin.listTopics()).resolves.toBeInstanceOf(Array);
    await admin.disconnect();

    const again = await cli('kafka-up');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`kafka already running: 127.0.0.1:${port} (pid ${state.pid}`);
    expect(again.stdout).toContain(`export KAFKA_BROKERS=127.0.0.1:${port}`);

    const down = await cli('kafka-down');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`(pid ${state.pid}) stopped`);
    expect(isAlive(state.pid)).toBe(false);
    expect(existsSync(stateFile(home))).toBe(false);
    expect(existsSync(join(home, 'data'))).toBe(false);
    expect(existsSync(join(home, 'broker.log'))).toBe(true);

    const downAgain = await cli('kafka-down');
    expect(downAgain.code).toBe(0);
    expect(downAgain.stdout).toContain('no kafka broker running');
  });

  it('two kafka:up at once start one broker: the second waits and reports it', async () => {
    const [first, second] = await Promise.all([cli('kafka-up'), cli('kafka-up')]);
    const outputs = [first.stdout, second.stdout].join('\n');
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(outputs.match(/kafka ready: /g)).toHaveLength(1);
    expect(outputs).toContain(`kafka already running: 127.0.0.1:${port} (pid ${readState(home)!.pid}`);
    expect(outputs).toContain('is starting a broker; waiting for it');
    expect((await cli('kafka-down')).code).toBe(0);
  });

  it('refuses a taken port with a message naming KAFKA_PORT', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    const up = await cli('kafka-up', { KAFKA_PORT: String(taken) });
    await new Promise((resolve) => server.close(resolve));
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${taken} is already in use.*set KAFKA_PORT`));
    expect(existsSync(stateFile(home))).toBe(false);
  });

  it('treats a recorded broker that died as not running', async () => {
    const up = await cli('kafka-up');
    expect(up.code, up.stderr).toBe(0);
    const { pid } = readState(home)!;
    await terminate(pid, 30_000); // dies behind kafka:down's back
    const down = await cli('kafka-down');
    expect(down.stdout).toContain(`pid ${pid} recorded for 127.0.0.1:${port} is gone`);
    expect(existsSync(stateFile(home))).toBe(false);
  });
});
