// startKafkaBroker's contract beyond the happy path the global setup already exercises.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startKafkaBroker } from '../../src/broker.js';
import { isAlive } from '../../src/process.js';

const savedJavaHome = process.env.JAVA_HOME;
afterEach(() => {
  if (savedJavaHome === undefined) delete process.env.JAVA_HOME;
  else process.env.JAVA_HOME = savedJavaHome;
});
const kept = mkdtempSync(join(tmpdir(), 'kafka-local-kept-'));
afterAll(() => rmSync(kept, { recursive: true, force: true }));

describe('startKafkaBroker', () => {
  it('stops idempotently and removes the temp folder it made', async () => {
    const broker = await startKafkaBroker({ heapMb: 256 });
    expect(broker.timings.formatMs).toBeGreaterThan(0);
    expect(existsSync(broker.logFile)).toBe(true);
    await Promise.all([broker.stop(), broker.stop()]);
    expect(isAlive(broker.pid)).toBe(false);
    expect(existsSync(broker.dataDir)).toBe(false);
  });

  it('keeps a given data folder and reuses it, without formatting, on the next start', async () => {
    const first = await startKafkaBroker({ dataDir: kept, heapMb: 256 });
    await first.stop();
    expect(existsSync(join(kept, 'kraft', 'meta.properties'))).toBe(true);
    const second = await startKafkaBroker({ dataDir: kept, heapMb: 256 });
    expect(second.timings.formatMs).toBe(0);
    await second.stop();
  });

  it('says to run kafka:jars when the jars are missing', async () => {
    await expect(startKafkaBroker({ jarsDir: join(kept, 'no-jars') })).rejects.toThrow(/run `npm run kafka:jars`/);
  });

  it('says to install Java when java cannot be run', async () => {
    process.env.JAVA_HOME = '/nonexistent-jdk';
    await expect(startKafkaBroker()).rejects.toThrow(/install a Java 17\+ runtime/);
  });

  it('reports a broker that exits early with the tail of its log', async () => {
    const failed = startKafkaBroker({ heapMb: 1 });
    await expect(failed).rejects.toThrow(/exited early[\s\S]*Too small maximum heap/);
  });

  it('refuses a port that is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await expect(startKafkaBroker({ port })).rejects.toThrow(`port 127.0.0.1:${port} is already in use`);
    await new Promise((resolve) => server.close(resolve));
  });
});
