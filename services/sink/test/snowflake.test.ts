// The sink's Snowflake path end to end: the real snowflake-sdk against the
// Snowflake-protocol test server, which refuses SQL Snowflake would not accept.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, createWarehouse, LATEST_SCHEMA_VERSION, loadConfig, OffsetConflictError, scoreRow, type LandBatch, type SinkService, type Warehouse } from '../src/index.js';
import { makeScore, scoreMessage, tempDir, waitFor } from './helpers.js';
import { analyst, snowflakeEnv } from './snowflake-helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

function batch(from: number, to: number, expected: bigint): LandBatch {
  const scores = [];
  for (let i = from; i <= to; i++) {
    const event = makeScore(i);
    scores.push(scoreRow('cluster-a', { topic: TOPICS.scores, partition: 0, offset: String(i), key: null, value: Buffer.alloc(0), headers: {}, timestamp: 0 }, event));
  }
  return { cluster: 'cluster-a', topic: TOPICS.scores, partition: 0, expectedLastOffset: expected, lastOffset: BigInt(to), scores, deadLetters: [] };
}

describe('sink → Snowflake (real snowflake-sdk, Snowflake-protocol test server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server(databasePath: string, port = 0): Promise<SnowflakeTestServer> {
    const s = await startSnowflakeTestServer({ port, databasePath });
    return s;
  }

  it('migrates idempotently, lands batches guarded by the offset, and keeps one row per score id', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await server(join(dir, 'sf.duckdb'));
    cleanups.push(() => sf.stop());
    const config = loadConfig(snowflakeEnv(sf.url));
    const warehouses: Warehouse[] = [createWarehouse(config, logger, dir), createWarehouse(config, logger, dir)];
    cleanups.push(async () => {
      for (const w of warehouses) await w.close();
    });
    const [w] = warehouses as [Warehouse, Warehouse];
    expect(w.kind).toBe('snowflake');
    await w.init();
    await warehouses[1]!.init();

    expect(await w.land(batch(0, 99, -1n))).toEqual({ scoresInserted: 100, deadLettersInserted: 0 });
    await expect(w.land(batch(0, 99, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
    await expect(w.land(batch(50, 120, 49n))).rejects.toBeInstanceOf(OffsetConflictError);
    // The same scores again at later offsets (an upstream re-emission): the offset moves, no row is added.
    expect(await w.land({ ...batch(0, 99, 99n), lastOffset: 199n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0 });
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(199n);

    const a = await analyst(sf.url);
    cleanups.push(() => a.close());
    const [counts] = await a.query('SELECT COUNT(*) AS N, COUNT(DISTINCT score_id) AS IDS FROM severity_scores');
    expect(counts).toEqual({ N: 100, IDS: 100 });
    const expected = makeScore(7);
    const [row] = await a.query(
      `SELECT probability, news2, band, features:heart_rate::number AS hr, top_features[0]:feature::string AS top, unit FROM severity_scores WHERE score_id = '${expected.payload.scoreId}'`,
    );
    expect(row).toEqual({
      PROBABILITY: expected.payload.probability,
      NEWS2: expected.payload.news2,
      BAND: expected.payload.band,
      HR: expected.payload.features.heart_rate,
      TOP: 'heart_rate',
      UNIT: 'ward-3',
    });
    const latest = await a.query('SELECT COUNT(*) AS N FROM severity_scores_latest');
    expect(latest).toEqual([{ N: 50 }]);
    const versions = await a.query('SELECT MAX(version) AS V FROM sink_schema_migrations');
    expect(versions).toEqual([{ V: LATEST_SCHEMA_VERSION }]);
    expect(await a.query("SELECT partition_id AS P, last_offset AS O FROM sink_offsets WHERE cluster_id = 'cluster-a'")).toEqual([{ P: 0, O: 199 }]);
  });

  it('is not blocked by a writer that died inside its transaction (a detached Snowflake transaction)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const sf = await server(join(dir, 'sf.duckdb'));
    cleanups.push(() => sf.stop());
    const w = createWarehouse(loadConfig(snowflakeEnv(sf.url)), logger, dir);
    cleanups.push(() => w.close());
    await w.init();
    await w.land(batch(0, 9, -1n));
    // A sink killed between its last statement and COMMIT: its session stays open, in a transaction.
    const zombie = await analyst(sf.url);
    cleanups.push(() => zombie.close());
    await zombie.query('BEGIN TRANSACTION');
    await zombie.query(
      `INSERT INTO sink_offset_log (cluster_id, topic, partition_id, last_offset, records, committed_at) SELECT 'cluster-a', '${TOPICS.scores}', 0, 19, 10, CURRENT_TIMESTAMP`,
    );
    // The next owner lands the same range: not blocked, not refused.
    expect(await w.land(batch(10, 19, 9n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0 });
    expect(await w.land(batch(20, 29, 19n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0 });
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(29n);
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
    expect(await w.land(batch(0, 9, -1n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0 });
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

  it('runs the sink service on Snowflake: every score once, through a test-server restart mid-stream', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, 'sf.duckdb');
    let sf = await server(dbPath);
    const port = sf.port;
    cleanups.push(() => sf.stop());
    const config = loadConfig({ ...snowflakeEnv(sf.url), SINK_FLUSH_MS: '50', SINK_FLUSH_RECORDS: '200', SINK_RETRY_INITIAL_MS: '100', SINK_RETRY_MAX_MS: '500' });
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    const service: SinkService = createSinkService({ config, logger, bus: new MemoryBus({ broker }) });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
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
