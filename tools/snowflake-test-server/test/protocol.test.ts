import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '../src/index.js';
import { connect, destroy, exec, execError, snowflake, withTimeout } from './helpers.js';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const otherPrivatePem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

let server: SnowflakeTestServer;
beforeAll(async () => {
  server = await startSnowflakeTestServer({ users: { sink: 'sink-password' }, publicKeys: { SINK_SVC: publicPem }, tokenValiditySeconds: 2 });
});
afterAll(async () => {
  await server.stop();
});

describe('login', () => {
  test('a good password logs in and the session reports its database and schema', async () => {
    const c = await connect(server.url);
    const { rows } = await exec(c, 'SELECT CURRENT_DATABASE() AS db, CURRENT_SCHEMA() AS sch, CURRENT_USER() AS u');
    expect(rows).toEqual([{ DB: 'EHR', SCH: 'PUBLIC', U: 'SINK' }]);
    await destroy(c);
  });

  test('a bad password is refused with 390100', async () => {
    const err = await connect(server.url, { password: 'wrong' }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('390100');
    expect(err?.message).toMatch(/Incorrect username or password/);
  });

  test('key-pair (SNOWFLAKE_JWT) login: the registered key passes, another key is refused with 390144', async () => {
    const c = await connect(server.url, { username: 'sink_svc', password: undefined, authenticator: 'SNOWFLAKE_JWT', privateKey: privatePem });
    expect((await exec(c, 'SELECT 1 AS x')).rows).toEqual([{ X: 1 }]);
    await destroy(c);
    const err = await connect(server.url, { username: 'sink_svc', password: undefined, authenticator: 'SNOWFLAKE_JWT', privateKey: otherPrivatePem }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err?.code).toBe('390144');
  });
});

describe('errors come back as Snowflake errors (HTTP 200, success:false)', () => {
  test.each([
    ['SELECT * FROM no_such_table', '002003', '42S02'],
    ['INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', '001003', '42000'],
    ['INSERT OR REPLACE INTO t VALUES (1)', '001003', '42000'],
    ['SELECT 1 AS x RETURNING x', '001003', '42000'],
    ["PRAGMA table_info('t')", '001003', '42000'],
    ["SELECT '{}'::JSON", '002040', '42601'],
    ["SELECT * FROM read_csv('/etc/passwd')", '002140', '42601'],
    ['SELECT nope FROM (SELECT 1 AS x)', '000904', '42000'],
    ["SELECT PARSE_JSON('{not json')", '100069', '22P02'],
  ])('%s → %s', async (sqlText, code, sqlState) => {
    const c = await connect(server.url);
    const err = await execError(c, sqlText);
    expect(err.code).toBe(code);
    expect(err.sqlState).toBe(sqlState);
    // the session is still usable afterwards
    expect((await exec(c, 'SELECT 1 AS ok')).rows).toEqual([{ OK: 1 }]);
    await destroy(c);
  });
});

describe('result encodings', () => {
  test('types come back as the driver decodes Snowflake JSON results', async () => {
    const c = await connect(server.url);
    await exec(
      c,
      'CREATE OR REPLACE TABLE enc (n NUMBER(10,2), i INTEGER, f FLOAT, s STRING, b BOOLEAN, d DATE, ntz TIMESTAMP_NTZ, tz TIMESTAMP_TZ, ltz TIMESTAMP_LTZ, v VARIANT, o OBJECT, a ARRAY)',
    );
    await exec(
      c,
      `INSERT INTO enc SELECT 12.5, -3, 0.25, 'x''y', TRUE, '2024-02-29', '2024-01-01 12:34:56.789', '2024-01-01T10:00:00+02:00', '2024-01-01T00:00:00Z', PARSE_JSON('{"k":[1,"two",null]}'), PARSE_JSON('{"a":1}'), PARSE_JSON('[1,2]')`,
    );
    const { rows, stmt } = await exec(c, 'SELECT * FROM enc');
    expect(stmt.getColumns()!.map((col) => col.getType())).toEqual(['fixed', 'fixed', 'real', 'text', 'boolean', 'date', 'timestamp_ntz', 'timestamp_tz', 'timestamp_ltz', 'variant', 'object', 'array']);
    const r = rows[0]!;
    expect(r.N).toBe(12.5);
    expect(r.I).toBe(-3);
    expect(r.F).toBe(0.25);
    expect(r.S).toBe("x'y");
    expect(r.B).toBe(true);
    expect((r.D as Date).getTime()).toBe(Date.UTC(2024, 1, 29));
    expect((r.NTZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 12, 34, 56, 789));
    expect((r.TZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1, 8, 0, 0));
    expect((r.LTZ as Date).getTime()).toBe(Date.UTC(2024, 0, 1));
    expect(r.V).toEqual({ k: [1, 'two', null] });
    expect(r.O).toEqual({ a: 1 });
    expect(r.A).toEqual([1, 2]);
    const desc = await exec(c, 'DESCRIBE TABLE enc');
    expect(desc.rows.map((x) => [x.name, x.type])).toContainEqual(['N', 'NUMBER(10,2)']);
    expect(desc.rows.map((x) => [x.name, x.type])).toContainEqual(['O', 'OBJECT']);
    const show = await exec(c, "SHOW TABLES LIKE 'ENC'");
    expect(show.rows.map((x) => x.name)).toEqual(['ENC']);
    await destroy(c);
  });
});

describe('session lifecycle', () => {
  test('an expired session token is renewed with the master token, transparently', async () => {
    const c = await connect(server.url);
    const before = server.stats().tokenRenewals;
    await new Promise((r) => setTimeout(r, 2200));
    expect((await exec(c, 'SELECT 42 AS answer')).rows).toEqual([{ ANSWER: 42 }]);
    expect(server.stats().tokenRenewals).toBeGreaterThan(before);
    await destroy(c);
  });

  test('deleting a session rolls back its open transaction', async () => {
    const a = await connect(server.url);
    await exec(a, 'CREATE OR REPLACE TABLE lifecycle (id INTEGER)');
    await exec(a, 'BEGIN');
    await exec(a, 'INSERT INTO lifecycle VALUES (1)');
    await destroy(a);
    const b = await connect(server.url);
    expect((await exec(b, 'SELECT COUNT(*) AS n FROM lifecycle')).rows).toEqual([{ N: 0 }]);
    await destroy(b);
  });

  test('a pool validates connections with the heartbeat', async () => {
    const pool = snowflake.createPool(
      { account: 'testacct', username: 'sink', password: 'sink-password', accessUrl: server.url, database: 'EHR', schema: 'PUBLIC' },
      { max: 2, min: 0, testOnBorrow: true },
    );
    const hb = server.stats().heartbeats;
    for (let k = 0; k < 3; k++) {
      const rows = await withTimeout(
        pool.use(async (conn) => (await exec(conn, 'SELECT 1 AS one')).rows),
        20_000,
        'pool.use',
      );
      expect(rows).toEqual([{ ONE: 1 }]);
    }
    expect(server.stats().heartbeats).toBeGreaterThan(hb);
    await withTimeout(pool.drain().then(() => pool.clear()), 10_000, 'pool drain');
  });
});

describe('array binds above the stage threshold', () => {
  test('the driver tries the stage path, is refused, and falls back to inline binds', async () => {
    const c = await connect(server.url, { arrayBindingThreshold: 10 });
    await exec(c, 'CREATE OR REPLACE TABLE staged (a INTEGER, b STRING, c VARIANT)');
    const rows = Array.from({ length: 5 }, (_, k) => [k, `b${k}`, '{}']);
    const failedBefore = server.stats().failedQueries;
    const { stmt } = await exec(c, 'INSERT INTO staged (a, b, c) SELECT ?, ?, PARSE_JSON(?)', rows);
    expect(stmt.getNumUpdatedRows()).toBe(5);
    // the refused CREATE TEMPORARY STAGE SYSTEM$BIND
    expect(server.stats().failedQueries).toBe(failedBefore + 1);
    expect((await exec(c, 'SELECT COUNT(*) AS n FROM staged')).rows).toEqual([{ N: 5 }]);
    await destroy(c);
  });
});

describe('locks and stuck transactions', () => {
  test('holdNext pauses one matching statement until released: another session sees nothing committed meanwhile', async () => {
    const a = await connect(server.url);
    const b = await connect(server.url);
    await exec(a, 'CREATE OR REPLACE TABLE held (id INTEGER)');
    await exec(a, 'BEGIN');
    await exec(a, 'INSERT INTO held VALUES (1)');
    const hold = server.holdNext(/^COMMIT/);
    const committing = exec(a, 'COMMIT');
    await hold.reached;
    expect((await exec(b, 'SELECT COUNT(*) AS n FROM held')).rows).toEqual([{ N: 0 }]);
    hold.release();
    await committing;
    expect((await exec(b, 'SELECT COUNT(*) AS n FROM held')).rows).toEqual([{ N: 1 }]);
    await destroy(a);
    await destroy(b);
  });

  test('a transaction that sits idle while it blocks another one is rolled back (as Snowflake does with a detached one); its COMMIT then fails', async () => {
    const s = await startSnowflakeTestServer({ users: { sink: 'sink-password' }, blockingIdleAbortSeconds: 1 });
    try {
      const zombie = await connect(s.url);
      const next = await connect(s.url);
      await exec(zombie, 'CREATE OR REPLACE TABLE guard (k INTEGER, n INTEGER)');
      await exec(zombie, 'INSERT INTO guard VALUES (1, 0)');
      await exec(zombie, 'BEGIN');
      await exec(zombie, 'UPDATE guard SET n = 1 WHERE k = 1 AND n = 0');
      // Not idle long enough yet: the other writer is refused, the holder keeps its transaction.
      expect((await execError(next, 'UPDATE guard SET n = 2 WHERE k = 1 AND n = 0')).code).toBe('000625');
      await new Promise((r) => setTimeout(r, 1200));
      // Idle past the limit while blocking: this conflict rolls it back; the next try goes through.
      expect((await execError(next, 'UPDATE guard SET n = 2 WHERE k = 1 AND n = 0')).code).toBe('000625');
      const { stmt } = await exec(next, 'UPDATE guard SET n = 2 WHERE k = 1 AND n = 0');
      expect(stmt.getNumUpdatedRows()).toBe(1);
      const err = await execError(zombie, 'COMMIT');
      expect(err.code).toBe('000603');
      expect(err.message).toMatch(/idle .* while blocking another transaction/);
      expect((await exec(next, 'SELECT n FROM guard')).rows).toEqual([{ N: 2 }]);
      await destroy(zombie);
      await destroy(next);
    } finally {
      await s.stop();
    }
  });
});
