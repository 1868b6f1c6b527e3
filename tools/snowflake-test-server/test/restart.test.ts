/**
 * The server restarts on the same database file and port while a pool of real driver
 * connections is writing. Committed data stays; idle pooled sessions are renewed
 * transparently (the driver's 390112 → token-request path); a session caught inside a
 * transaction fails cleanly and its batch is retried on a fresh connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection, Pool } from 'snowflake-sdk';
import { afterAll, describe, expect, test } from 'vitest';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '../src/index.js';
import { connectionOptions, exec, snowflake, USERS, withTimeout } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INSERT = 'INSERT INTO events (event_id, src_offset, payload) SELECT ?, ?, PARSE_JSON(?)';
const GUARD = 'UPDATE offsets SET next_offset = ? WHERE src_partition = 0 AND next_offset = ?';

function batch(start: number, n: number): unknown[][] {
  return Array.from({ length: n }, (_, k) => [`ev-${start + k}`, start + k, JSON.stringify({ k: start + k })]);
}

/** The sink's write: batch + guarded offset in one transaction on one pooled connection. */
async function writeBatch(pool: Pool<Connection>, start: number, n: number): Promise<void> {
  await withTimeout(
    pool.use(async (conn) => {
      await exec(conn, 'BEGIN');
      try {
        await exec(conn, INSERT, batch(start, n));
        const { stmt } = await exec(conn, GUARD, [start + n, start]);
        if (stmt.getNumUpdatedRows() !== 1) throw new Error(`offset guard failed at ${start}`);
        await exec(conn, 'COMMIT');
      } catch (err) {
        await exec(conn, 'ROLLBACK').catch(() => undefined);
        throw err;
      }
    }),
    60_000,
    `batch ${start}`,
  );
}

/** Reads the committed offset (the warehouse is the truth) and retries from it, as the sink does on errors. */
async function writeWithRetry(pool: Pool<Connection>, n: number, attempts = 5): Promise<number> {
  let lastErr: unknown;
  for (let a = 0; a < attempts; a++) {
    try {
      const next = await withTimeout(pool.use(async (conn) => Number((await exec(conn, 'SELECT next_offset FROM offsets WHERE src_partition = 0')).rows[0]!.NEXT_OFFSET)), 60_000, 'read offset');
      await writeBatch(pool, next, n);
      return next + n;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

function createPool(url: string): Pool<Connection> {
  return snowflake.createPool(connectionOptions(url), { max: 2, min: 0, testOnBorrow: true, acquireTimeoutMillis: 30_000 });
}

async function setup(url: string): Promise<void> {
  const pool = createPool(url);
  await withTimeout(
    pool.use(async (conn) => {
      await exec(conn, 'CREATE TABLE IF NOT EXISTS events (event_id VARCHAR NOT NULL, src_offset BIGINT NOT NULL, payload VARIANT)');
      await exec(conn, 'CREATE TABLE IF NOT EXISTS offsets (src_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL)');
      await exec(conn, 'DELETE FROM offsets');
      await exec(conn, 'DELETE FROM events');
      await exec(conn, 'INSERT INTO offsets VALUES (0, 0)');
    }),
    30_000,
    'setup',
  );
  await drain(pool);
}

async function drain(pool: Pool<Connection>): Promise<void> {
  await withTimeout(pool.drain().then(() => pool.clear()), 20_000, 'pool drain');
}

async function counts(pool: Pool<Connection>): Promise<{ N: number; D: number; NEXT: number }> {
  return withTimeout(
    pool.use(async (conn) => {
      const { rows } = await exec(conn, 'SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS d, (SELECT next_offset FROM offsets) AS next FROM events');
      return rows[0] as { N: number; D: number; NEXT: number };
    }),
    30_000,
    'counts',
  );
}

describe('restart in process (stop(), then start on the same file and port)', () => {
  let server: SnowflakeTestServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  test('idle pooled sessions are renewed; committed data stays; writing goes on', async () => {
    const db = join(dir, 'inproc.duckdb');
    server = await startSnowflakeTestServer({ databasePath: db, users: USERS });
    const port = server.port;
    await setup(server.url);
    const pool = createPool(server.url);
    let next = 0;
    for (let k = 0; k < 5; k++) next = await writeWithRetry(pool, 200);

    await server.stop();
    server = await startSnowflakeTestServer({ databasePath: db, port, users: USERS });

    for (let k = 0; k < 5; k++) next = await writeWithRetry(pool, 200);
    expect(await counts(pool)).toEqual({ N: 2000, D: 2000, NEXT: 2000 });
    expect(next).toBe(2000);
    // the pool's sessions from before the restart were renewed, not re-created
    expect(server.stats().sessionsRevived).toBeGreaterThan(0);
    await drain(pool);
  });

  test('a session inside a transaction at the restart fails cleanly; the retried batch lands once', async () => {
    const db = join(dir, 'intx.duckdb');
    await server?.stop();
    server = await startSnowflakeTestServer({ databasePath: db, users: USERS });
    const port = server.port;
    await setup(server.url);
    const pool = createPool(server.url);
    await writeWithRetry(pool, 100);

    const conn = await withTimeout(pool.acquire(), 30_000, 'acquire');
    await exec(conn, 'BEGIN');
    await exec(conn, INSERT, batch(100, 100));
    await server.stop(); // the open transaction is rolled back
    server = await startSnowflakeTestServer({ databasePath: db, port, users: USERS });
    const err = await exec(conn, GUARD, [200, 100]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    // the driver reports its own "terminated connection" error once the renewal is refused (390114)
    expect((err as { code?: unknown }).code).toBe(407002);
    expect(conn.isUp()).toBe(false);
    await withTimeout(pool.destroy(conn), 10_000, 'destroy');

    await writeWithRetry(pool, 100);
    expect(await counts(pool)).toEqual({ N: 200, D: 200, NEXT: 200 });
    await drain(pool);
  });
});

describe('crash (SIGKILL) of the CLI and a restart on the same file and port', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  function startCli(db: string, port: number): Promise<{ proc: ChildProcess; url: string }> {
    const proc = spawn(process.execPath, [cli, '--port', String(port), '--db', db, '--user', 'sink:sink-password', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    return withTimeout(
      new Promise((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /ready: (http:\/\/\S+)/.exec(out);
          if (m) resolve({ proc, url: m[1]! });
        });
        proc.once('exit', (code) => reject(new Error(`cli exited with ${String(code)}: ${out}`)));
      }),
      20_000,
      'cli start',
    );
  }

  test('committed batches survive kill -9; the pool reconnects', async () => {
    const db = join(dir, 'crash.duckdb');
    // pick a free port, then keep it across the restart
    const probe = await startSnowflakeTestServer({ users: USERS });
    const port = probe.port;
    await probe.stop();

    let started = await startCli(db, port);
    child = started.proc;
    await setup(started.url);
    const pool = createPool(started.url);
    for (let k = 0; k < 3; k++) await writeWithRetry(pool, 300);

    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    started = await startCli(db, port);
    child = started.proc;

    for (let k = 0; k < 3; k++) await writeWithRetry(pool, 300);
    expect(await counts(pool)).toEqual({ N: 1800, D: 1800, NEXT: 1800 });
    await drain(pool);
  });
});
