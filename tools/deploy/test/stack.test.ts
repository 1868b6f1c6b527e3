// startStack with separate processes on the in-memory bus (nothing flows between them; the
// real-Kafka run is in test/kafka). What is tested here: processes, ports, logs, signals.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@ehr/kafka-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '@ehr/kafka-local';
import { instancesOf, startStack, type ExitReport, type Stack, type StackLogEntry } from '../src/stack.js';
import { findRepoRoot } from '../src/services.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stack-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ports(): Promise<{ producer: number; sink: number }> {
  const [producer, sink] = await freePorts(2);
  return { producer: producer!, sink: sink! };
}

describe('startStack', () => {
  let stack: Stack;
  const logs: StackLogEntry[] = [];
  const unexpected: ExitReport[] = [];
  let chosen: { producer: number; sink: number };

  beforeAll(async () => {
    chosen = await ports();
    stack = await startStack({
      services: ['producer', 'sink'],
      ports: chosen,
      inheritEnv: false,
      env: { DUCKDB_PATH: join(dir, 'warehouse.duckdb'), KAFKA_BROKERS: 'ignored:9092' },
      logSink: (entry) => logs.push(entry),
      onUnexpectedExit: (report) => unexpected.push(report),
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs each service as its own process on its own port, ready', async () => {
    expect(stack.urls).toEqual({ producer: `http://127.0.0.1:${chosen.producer}`, sink: `http://127.0.0.1:${chosen.sink}` });
    expect(stack.pid('producer')).not.toBe(stack.pid('sink'));
    const readiness = await stack.readiness();
    expect(readiness.producer?.status).toBe(200);
    expect(readiness.sink?.status).toBe(200);
  });

  it('hands every line to the log sink, parsed, with its service', () => {
    const ready = logs.filter((l) => l.record?.msg?.includes('ready:'));
    expect(ready.map((l) => l.service).sort()).toEqual(['producer', 'sink']);
    expect(ready.every((l) => l.record?.service === l.service)).toBe(true);
  });

  it('passes the given broker setting only through `brokers` (omitted: the in-memory bus)', () => {
    const bus = logs.filter((l) => l.record?.msg?.includes('ready:')).map((l) => l.record?.bus);
    expect(bus).toEqual(['memory', 'memory']);
  });

  it('kills one service without reporting it as unexpected, and restarts it on its port', async () => {
    const report = await stack.kill('producer');
    expect(report).toMatchObject({ service: 'producer', signal: 'SIGKILL' });
    expect((await stack.readiness()).producer?.status).toBe(0);
    await stack.restart('producer');
    expect((await stack.readiness()).producer?.status).toBe(200);
    expect(unexpected).toEqual([]);
  });

  it('reports a service that exits on its own', async () => {
    process.kill(stack.pid('sink')!, 'SIGTERM');
    await expect.poll(() => unexpected.length, { timeout: 20_000 }).toBe(1);
    expect(unexpected[0]).toMatchObject({ service: 'sink', code: 0, signal: null });
    await stack.restart('sink');
  });

  it('stops every service with one SIGTERM each and reports clean exits; stopping again changes nothing', async () => {
    const pids = [stack.pid('producer')!, stack.pid('sink')!];
    const reports = await stack.stop();
    expect(reports.map((r) => [r.service, r.code, r.signal, r.forced])).toEqual([
      ['producer', 0, null, false],
      ['sink', 0, null, false],
    ]);
    expect(pids.some(isAlive)).toBe(false);
    expect(logs.filter((l) => l.record?.msg === 'second signal: exiting now')).toEqual([]);
    expect(await stack.stop()).toEqual(reports);
  });
});

describe('startStack refuses to start', () => {
  it('on a port already in use, naming the service', async () => {
    const server: Server = await new Promise((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server.address() as { port: number }).port;
    try {
      await expect(startStack({ services: ['producer'], ports: { producer: port } })).rejects.toThrow(new RegExp(`producer: port ${port} .* in use`));
    } finally {
      server.close();
    }
  });

  it('on two services given one port', async () => {
    const [port] = await freePorts(1);
    await expect(startStack({ services: ['producer', 'feature'], ports: { producer: port, feature: port } })).rejects.toThrow(/producer and feature are both given port/);
  });

  it('when a service is not built', async () => {
    await expect(startStack({ root: dir, services: ['producer'] })).rejects.toThrow(/producer: .*dist\/main\.js is missing/);
  });

  it('when a service exits before it is ready, with its last lines, leaving nothing running', async () => {
    const chosen = await ports();
    const logs: StackLogEntry[] = [];
    const error = await startStack({
      services: ['producer', 'sink'],
      ports: chosen,
      inheritEnv: false,
      env: { DUCKDB_PATH: join(dir, 'early.duckdb') },
      serviceEnv: { sink: { LOG_LEVEL: 'chatty' } },
      logSink: (entry) => logs.push(entry),
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/sink exited \(code 1\) before it was ready/);
    expect((error as Error).message).toMatch(/LOG_LEVEL/);
    const readiness = await fetch(`http://127.0.0.1:${chosen.producer}/health/ready`).catch(() => null);
    expect(readiness).toBeNull();
  });

  it('when aborted during start-up, stopping what it started', async () => {
    const chosen = await ports();
    const abort = new AbortController();
    const starting = startStack({ services: ['producer'], ports: chosen, inheritEnv: false, signal: abort.signal });
    abort.abort(new Error('SIGINT'));
    await expect(starting).rejects.toThrow(/SIGINT/);
    expect(await fetch(`http://127.0.0.1:${chosen.producer}/health/ready`).catch(() => null)).toBeNull();
  });
});

describe('findRepoRoot', () => {
  it('finds the folder whose package.json declares the workspaces, not a package with a turbo.json of its own', () => {
    const root = findRepoRoot();
    expect(existsSync(join(root, 'services', 'sink', 'package.json'))).toBe(true);
    expect(findRepoRoot(join(root, 'tools', 'deploy', 'src'))).toBe(root);
  });
});

describe('startStack with replicas', () => {
  it('names a service\'s instances after it, the first by the service\'s own name', () => {
    expect(instancesOf(['producer', 'feature', 'sink'], { feature: 3 }).map((i) => [i.name, i.service, i.replica])).toEqual([
      ['producer', 'producer', 1],
      ['feature', 'feature', 1],
      ['feature-2', 'feature', 2],
      ['feature-3', 'feature', 3],
      ['sink', 'sink', 1],
    ]);
    expect(() => instancesOf(['feature'], { feature: 0 })).toThrow(/positive integer/);
  });

  it('runs each replica as its own process on its own port, with its own Kafka client id, and stops them all', async () => {
    const [first, second] = await freePorts(2);
    const logs: StackLogEntry[] = [];
    const stack = await startStack({
      services: ['producer'],
      replicas: { producer: 2 },
      ports: { producer: first!, 'producer-2': second! },
      inheritEnv: false,
      env: { KAFKA_CLIENT_ID: 'intake' },
      logSink: (entry) => logs.push(entry),
    });
    try {
      expect(stack.instances.map((i) => [i.name, i.url])).toEqual([
        ['producer', `http://127.0.0.1:${first}`],
        ['producer-2', `http://127.0.0.1:${second}`],
      ]);
      expect(stack.url('producer-2')).toBe(`http://127.0.0.1:${second}`);
      expect(stack.pid('producer')).not.toBe(stack.pid('producer-2'));
      const readiness = await stack.readiness();
      expect([readiness.producer?.status, readiness['producer-2']?.status]).toEqual([200, 200]);
      // The group is the service's; the client id tells the members apart.
      const clientId = (name: 'producer' | 'producer-2') =>
        readFileSync(`/proc/${stack.pid(name)}/environ`, 'utf8').split('\0').find((v) => v.startsWith('KAFKA_CLIENT_ID='));
      expect([clientId('producer'), clientId('producer-2')]).toEqual(['KAFKA_CLIENT_ID=intake', 'KAFKA_CLIENT_ID=intake-2']);
      expect(new Set(logs.filter((l) => l.record?.msg?.includes('ready:')).map((l) => `${l.service}/${l.instance}`))).toEqual(new Set(['producer/producer', 'producer/producer-2']));
    } finally {
      const reports = await stack.stop();
      expect(reports.map((r) => [r.instance, r.code])).toEqual([
        ['producer', 0],
        ['producer-2', 0],
      ]);
    }
  });
});
