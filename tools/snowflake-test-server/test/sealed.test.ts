/**
 * The test server is a sealed box: DuckDB underneath reads no file but its own and reaches
 * no network, its settings cannot be changed back, only configured users get in, request
 * bodies are bounded, and its command line fails in one line.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../src/database.js';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '../src/index.js';
import { connect, destroy, exec, execError, USERS } from './helpers.js';

describe('the DuckDB instance underneath', () => {
  test('reads no file and cannot be unlocked, whatever SQL reaches it', async () => {
    const { instance, system } = await openDatabase(':memory:');
    const c = await instance.connect();
    const error = async (sql: string) => c.run(sql).then(() => '', (e: unknown) => (e as Error).message);
    try {
      expect(await error(`SELECT * FROM read_csv('/etc/passwd')`)).toMatch(/file system operations are disabled/);
      expect(await error(`SELECT * FROM '/etc/hostname'`)).not.toBe('');
      expect(await error(`COPY (SELECT 1) TO '/tmp/sf-test-server-escape.csv'`)).toMatch(/disabled/);
      expect(await error(`ATTACH '/tmp/sf-test-server-escape.duckdb'`)).toMatch(/disabled/);
      expect(await error('SET enable_external_access = true')).toMatch(/configuration has been locked/);
      expect(await error(`SET memory_limit = '64GB'`)).toMatch(/configuration has been locked/);
      expect(existsSync('/tmp/sf-test-server-escape.csv')).toBe(false);
      // what the server needs still works: JSON, time zones, session macros and schemas
      expect(await error(`SELECT json('{"a":1}'), now() AT TIME ZONE 'UTC'`)).toBe('');
      expect(await error(`CREATE OR REPLACE TEMP MACRO m(x) AS x + 1`)).toBe('');
      expect(await error(`CREATE SCHEMA IF NOT EXISTS s; SET schema = 's'`)).toBe('');
    } finally {
      c.closeSync();
      system.closeSync();
      instance.closeSync();
    }
  });
});

describe('logins', () => {
  test('a server without a configured user refuses to start', async () => {
    await expect(startSnowflakeTestServer({})).rejects.toThrow(/at least one configured user/);
    await expect(startSnowflakeTestServer({ users: {} })).rejects.toThrow(/at least one configured user/);
  });

  test('only configured users get in: an unknown user, a wrong password, a prototype key, or a key pair nobody registered are refused', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const server = await startSnowflakeTestServer({ users: USERS });
    try {
      for (const extra of [
        { username: 'stranger', password: 'sink-password' },
        { username: 'sink', password: 'not-it' },
        { username: '__proto__', password: 'x' },
        { username: 'toString', password: 'x' },
        { username: 'sink', password: undefined, authenticator: 'SNOWFLAKE_JWT', privateKey: key },
      ]) {
        const err = await connect(server.url, extra).then(
          async (c) => {
            await destroy(c);
            return undefined;
          },
          (e: unknown) => e as { code?: string },
        );
        expect(err?.code, JSON.stringify({ ...extra, privateKey: undefined })).toBe('390100');
      }
      const ok = await connect(server.url);
      await destroy(ok);
    } finally {
      await server.stop();
    }
  });
});

describe('requests', () => {
  let server: SnowflakeTestServer;
  beforeAll(async () => {
    server = await startSnowflakeTestServer({ users: USERS, maxBodyBytes: 64 * 1024, maxInflatedBytes: 256 * 1024 });
  });
  afterAll(async () => {
    await server.stop();
  });

  function post(body: Buffer): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('a body over the limit is answered 413 without being read', async () => {
    const big = Buffer.from(JSON.stringify({ data: { LOGIN_NAME: 'sink', PASSWORD: 'x'.repeat(100 * 1024) } }));
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/over the 65536-byte limit/);
  });

  test('a small gzip body that inflates past the limit is answered 413', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await post(bomb);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/inflates past/);
  });

  test('a body under the limits still logs in', async () => {
    const res = await post(gzipSync(Buffer.from(JSON.stringify({ data: { LOGIN_NAME: 'sink', PASSWORD: 'sink-password', ACCOUNT_NAME: 'x' } }))));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ success: true });
  });
});

describe('SQL through the real driver', () => {
  let server: SnowflakeTestServer;
  beforeAll(async () => {
    server = await startSnowflakeTestServer({ users: USERS });
  });
  afterAll(async () => {
    await server.stop();
  });

  test('file reads are refused where a table belongs, as a string or as a file-like name', async () => {
    const c = await connect(server.url);
    try {
      expect((await execError(c, "SELECT * FROM '/etc/passwd'")).code).toBe('001003');
      expect((await execError(c, 'SELECT * FROM "/etc/hosts.csv"')).code).toBe('002003');
      expect((await execError(c, "SELECT * FROM read_csv('/etc/passwd')")).code).toBe('002140');
    } finally {
      await destroy(c);
    }
  });

  test('valid Snowflake answers correctly: VALUES with column aliases, GROUP BY CUBE', async () => {
    const c = await connect(server.url);
    try {
      expect((await exec(c, 'SELECT SUM(a) AS s, COUNT(*) AS n FROM (VALUES (1), (2), (4)) v(a)')).rows).toEqual([{ S: 7, N: 3 }]);
      const { rows } = await exec(
        c,
        "SELECT band, unit, COUNT(*) AS n FROM (VALUES ('high', 'icu'), ('low', 'icu'), ('low', 'ward')) AS s (band, unit) GROUP BY CUBE (band, unit) ORDER BY band NULLS LAST, unit NULLS LAST",
      );
      expect(rows).toEqual([
        { BAND: 'high', UNIT: 'icu', N: 1 },
        { BAND: 'high', UNIT: null, N: 1 },
        { BAND: 'low', UNIT: 'icu', N: 1 },
        { BAND: 'low', UNIT: 'ward', N: 1 },
        { BAND: 'low', UNIT: null, N: 2 },
        { BAND: null, UNIT: 'icu', N: 2 },
        { BAND: null, UNIT: 'ward', N: 1 },
        { BAND: null, UNIT: null, N: 3 },
      ]);
    } finally {
      await destroy(c);
    }
  });

  test.each([
    'SELECT COUNT(*) FILTER (WHERE a > 1) AS n FROM (VALUES (1), (2)) v(a)',
    'SELECT DISTINCT ON (a) a FROM (VALUES (1), (1)) v(a)',
    "SELECT * FROM (VALUES ('x')) v(a) WHERE a GLOB 'x*'",
    'SELECT * FROM (VALUES (1)) v(a) LIMIT 50%',
    'SELECT CURRENT_TIMESTAMP - INTERVAL 1 DAY AS t',
  ])('DuckDB-only SQL is a Snowflake syntax error: %s', async (sql) => {
    const c = await connect(server.url);
    try {
      expect(await execError(c, sql)).toMatchObject({ code: '001003', sqlState: '42000' });
    } finally {
      await destroy(c);
    }
  });
});

describe('command line', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });

  test.each([[['--bogus']], [['--port', '1', '--frobnicate=yes']], [['stray-positional', '--user', 'a:b']], [[]], [['--user', 'no-password']], [['--user', 'a:b', '--port', 'x']]])(
    'a wrong command line gets one line, the usage and exit code 2, no stack: %j',
    (args) => {
      const r = run(...args);
      expect(r.status).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^(error|snowflake-test-server): /);
      expect(r.stderr).toContain('Usage: snowflake-test-server ');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    },
  );

  test('--help prints the usage', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: snowflake-test-server /);
  });
});
