// The sink's Snowflake path beyond the warehouse contract (warehouse-snowflake.test.ts):
// authentication, a writer that died inside its transaction, two sinks writing one
// warehouse at once, and the whole service through a test-server restart. All through the
// real snowflake-sdk against the Snowflake-protocol test server.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, createWarehouse, LATEST_SCHEMA_VERSION, loadConfig, MIGRATIONS, migrationsTableDdl, OffsetConflictError, type SinkService } from '../src/index.js';
import { makeScore, metric, scoreBatch, scoreMessage, tempDir, waitFor } from './helpers.js';
import { analyst, SF_USERS, snowflakeEnv } from './snowflake-helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

describe('sink → Snowflake (real snowflake-sdk, Snowflake-protocol test server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server(databasePath: string, port = 0): Promise<SnowflakeTestServer> {
    return startSnowflakeTestServer({ port, databasePath, users: SF_USERS, blockingIdleAbortSeconds: 1 });
  }

  async function serviceOn(url: string, env: Record<string, string>, bus: MemoryBus): Promise<SinkService> {
    const service = createSinkService({ config: loadConfig({ ...snowflakeEnv(url), ...env }), logger, bus });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    return service;
  }

  it('is not blocked by a writer that died inside its transaction before the guard, and not fooled by one that died holding it', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await server(join(dir, 'sf.duckdb'));
    cleanups.push(() => sf.stop());
    const w = createWarehouse(loadConfig(snowflakeEnv(sf.url)), logger, dir);
    cleanups.push(() => w.close());
    await w.init();
    await w.land(scoreBatch(0, 9, -1n));

    // A sink killed after its inserts, before the guard: its session stays open, in a transaction. INSERTs lock nothing.
    const early = await analyst(sf.url);
    cleanups.push(() => early.close());
    await early.query('BEGIN TRANSACTION');
    await early.query(`INSERT INTO sink_batches (cluster_id, topic, partition_id, first_offset, last_offset, records) SELECT 'cluster-a', '${TOPICS.scores}', 0, 10, 19, 10`);
    expect(await w.land(scoreBatch(10, 19, 9n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });

    // A sink killed between its guard and its COMMIT holds the partition row: the next writer is refused, not let through…
    const late = await analyst(sf.url);
    cleanups.push(() => late.close());
    await late.query('BEGIN TRANSACTION');
    await late.query(`UPDATE sink_partitions SET last_offset = 29 WHERE cluster_id = 'cluster-a' AND topic = '${TOPICS.scores}' AND partition_id = 0 AND last_offset = 19`);
    await expect(w.land(scoreBatch(20, 29, 19n, { run: 'next-owner' }))).rejects.toBeInstanceOf(OffsetConflictError);
    // …until that transaction is rolled back: Snowflake does it once it has blocked another one for 5 idle minutes (this server: 1 s).
    let outcome: unknown = null;
    await waitFor(
      async () => {
        outcome = await w.land(scoreBatch(20, 29, 19n, { run: 'next-owner' })).catch((e: unknown) => e);
        if (!(outcome instanceof OffsetConflictError)) return true;
        await new Promise((r) => setTimeout(r, 200));
        return false;
      },
      20_000,
      'the idle blocker to be rolled back',
    );
    expect(outcome).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(29n);
    expect(await w.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS positions FROM severity_scores')).toEqual([{ n: '30', positions: '30' }]);
  });

  it('migrates a schema-3 warehouse (offsets as an append-only log) to the partition rows without losing an offset', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await server(join(dir, 'sf.duckdb'));
    cleanups.push(() => sf.stop());
    const a = await analyst(sf.url);
    cleanups.push(() => a.close());
    await a.query(migrationsTableDdl('snowflake'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      for (const sql of m.statements('snowflake')) await a.query(sql);
      await a.query(`INSERT INTO sink_schema_migrations (version, description) SELECT ${m.version}, 'old'`);
    }
    await a.query(`INSERT INTO sink_offset_log (cluster_id, topic, partition_id, last_offset, records) SELECT 'cluster-a', '${TOPICS.scores}', 0, 41, 1`);
    const w = createWarehouse(loadConfig(snowflakeEnv(sf.url)), logger, dir);
    cleanups.push(() => w.close());
    await w.init();
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(41n);
    await expect(w.land(scoreBatch(0, 9, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
    expect(await w.land(scoreBatch(42, 45, 41n))).toEqual({ scoresInserted: 4, deadLettersInserted: 0, alertsInserted: 0 });
    expect(await w.read('SELECT MAX(version) AS v FROM sink_schema_migrations')).toEqual([{ v: String(LATEST_SCHEMA_VERSION) }]);
  });

  it('logs in with a key pair (SNOWFLAKE_JWT, encrypted private key file), the production authentication', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key-passphrase' },
    });
    const keyPath = join(dir, 'sink.p8');
    writeFileSync(keyPath, privateKey, { mode: 0o600 });
    const sf = await startSnowflakeTestServer({ port: 0, databasePath: join(dir, 'sf.duckdb'), publicKeys: { SINK_SVC: publicKey } });
    cleanups.push(() => sf.stop());
    const { SNOWFLAKE_PASSWORD: _password, ...env } = snowflakeEnv(sf.url);
    const config = loadConfig({ ...env, SNOWFLAKE_USER: 'SINK_SVC', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'key-passphrase' });
    const w = createWarehouse(config, logger, dir);
    cleanups.push(() => w.close());
    await w.init();
    expect(await w.land(scoreBatch(0, 9, -1n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });
  });

  it('keeps retrying a warehouse it cannot log in to, not ready, and never logs or reports the secret', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await startSnowflakeTestServer({ port: 0, databasePath: join(dir, 'sf.duckdb'), users: { sink: 'the-right-one' } });
    cleanups.push(() => sf.stop());
    let logs = '';
    const captured = createLogger({ service: 'sink', level: 'trace', destination: new Writable({ write: (c: Buffer, _e, done) => void ((logs += c.toString()), done()) }) });
    const secret = 'Sup3r-Secret-Passw0rd';
    const config = loadConfig({ ...snowflakeEnv(sf.url), SNOWFLAKE_PASSWORD: secret, SINK_RETRY_INITIAL_MS: '50' });
    const service = createSinkService({ config, logger: captured, bus: new MemoryBus() });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    await waitFor(() => /warehouse not available at start/.test(logs) && (logs.match(/retrying/g) ?? []).length >= 2, 30_000, 'two failed attempts');
    const ready = await service.app.inject('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().dependencies.warehouse.state).toBe('down');
    expect(ready.body).toMatch(/Incorrect username or password/);
    expect(logs).toContain('Incorrect username or password');
    expect(logs).not.toContain(secret);
    expect(ready.body).not.toContain(secret);
  });

  it('two sinks writing every partition of one warehouse at once: each record lands once, by exactly one of them', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await server(join(dir, 'sf.duckdb'));
    cleanups.push(() => sf.stop());
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    // Two consumer groups: both sinks consume every partition and race to land the same records.
    const env = { SINK_FLUSH_MS: '40', SINK_FLUSH_RECORDS: '150', SINK_RETRY_INITIAL_MS: '50', SINK_RETRY_MAX_MS: '200', KAFKA_TOPIC_PARTITIONS: '3' };
    const sinks = [await serviceOn(sf.url, { ...env, SINK_GROUP_ID: 'sink-a' }, new MemoryBus({ broker })), await serviceOn(sf.url, { ...env, SINK_GROUP_ID: 'sink-b' }, new MemoryBus({ broker }))];
    const producer = new MemoryBus({ broker });
    const total = 1500;
    for (let i = 0; i < total; i += 100) {
      await producer.produce(TOPICS.scores, Array.from({ length: 100 }, (_, k) => scoreMessage(makeScore(i + k, { run: 'two-sinks' }))));
      await new Promise((r) => setTimeout(r, 20));
    }
    const ends = broker.topics.get(TOPICS.scores)!.partitions.map((p) => BigInt(p.end) - 1n);
    await waitFor(() => sinks.every((s) => ends.every((end, p) => s.processor()!.landedOffset(TOPICS.scores, p) === end)), 60_000, 'both sinks to see every partition landed');

    const a = await analyst(sf.url);
    cleanups.push(() => a.close());
    const [counts] = await a.query('SELECT COUNT(*) AS N, COUNT(DISTINCT score_id) AS IDS, COUNT(DISTINCT src_partition * 1000000 + src_offset) AS POS FROM severity_scores');
    expect(counts).toEqual({ N: total, IDS: total, POS: total });
    // The offset log: per partition, ranges that never overlap, ending at the end of the partition.
    const log = await a.query('SELECT partition_id AS P, first_offset AS F, last_offset AS L FROM sink_batches ORDER BY partition_id, first_offset');
    for (let p = 0; p < 3; p++) {
      const ranges = log.filter((r) => r.P === p).map((r) => [Number(r.F), Number(r.L)] as const);
      for (let k = 1; k < ranges.length; k++) expect(ranges[k]![0]).toBe(ranges[k - 1]![1] + 1);
      expect(BigInt(ranges[ranges.length - 1]![1])).toBe(ends[p]);
    }
    const metrics = await Promise.all(sinks.map(async (s) => (await s.app.inject('/metrics')).body));
    const landedBy = metrics.map((m) => metric(m, 'ehr_sink_rows_landed_total', { table: 'severity_scores' }));
    expect(landedBy[0]! + landedBy[1]!).toBe(total);
    // They did race: the loser of a round was refused by the guard, re-read, and dropped what the winner had landed.
    const conflicts = metrics.map((m) => metric(m, 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' }));
    expect(conflicts[0]! + conflicts[1]!).toBeGreaterThan(0);
  });

  it('runs the sink service on Snowflake: every score once, through a test-server restart mid-stream', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, 'sf.duckdb');
    let sf = await server(dbPath);
    const port = sf.port;
    cleanups.push(() => sf.stop());
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    const service = await serviceOn(sf.url, { SINK_FLUSH_MS: '50', SINK_FLUSH_RECORDS: '200', SINK_RETRY_INITIAL_MS: '100', SINK_RETRY_MAX_MS: '500' }, new MemoryBus({ broker }));
    const producer = new MemoryBus({ broker });
    const total = 3000;
    const scores = Array.from({ length: total }, (_, i) => makeScore(i, { run: 'sf-restart' }));
    let landed = 0;
    await producer.produce(TOPICS.scores, scores.slice(0, 1000).map(scoreMessage));
    const a0 = await analyst(sf.url);
    await waitFor(async () => Number((await a0.query('SELECT COUNT(*) AS N FROM severity_scores'))[0]!.N) >= 200, 30_000, 'first rows');
    await a0.close();

    // Restart the server on the same port and file while scores keep coming.
    const producing = (async () => {
      for (let i = 1000; i < total; i += 100) {
        await producer.produce(TOPICS.scores, scores.slice(i, i + 100).map(scoreMessage));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await sf.stop();
    await new Promise((r) => setTimeout(r, 300));
    sf = await server(dbPath, port);
    await producing;

    const a = await analyst(sf.url);
    cleanups.push(() => a.close());
    await waitFor(
      async () => {
        landed = Number((await a.query('SELECT COUNT(*) AS N FROM severity_scores'))[0]!.N);
        return landed >= total;
      },
      60_000,
      'all rows after the restart',
    );
    await waitFor(() => service.processor()!.bufferedRecords() === 0, 10_000, 'empty buffers');
    const [row] = await a.query('SELECT COUNT(*) AS N, COUNT(DISTINCT score_id) AS IDS FROM severity_scores');
    expect(row).toEqual({ N: total, IDS: total });
    const ids = new Set((await a.query('SELECT score_id AS ID FROM severity_scores')).map((r) => r.ID));
    expect(ids).toEqual(new Set(scores.map((s) => s.payload.scoreId)));
    const ready = await service.app.inject('/health/ready');
    expect(ready.json().status).toBe('ready');
  });
});
