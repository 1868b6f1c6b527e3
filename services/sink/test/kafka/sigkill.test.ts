// Done-when of issue 7: the real sink process on a real broker, killed with SIGKILL
// mid-stream and restarted (and, for Snowflake, the warehouse restarted mid-stream):
// the warehouse holds every score exactly once, count and ids.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { KafkaBus } from '@ehr/bus';
import { TOPICS, type SeverityScoreEvent } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { makeScore, scoreMessage, tempDir, waitFor } from '../helpers.js';
import { analyst, SF_USERS, snowflakeEnv } from '../snowflake-helpers.js';
import { startSink, type SinkProcess } from './process.js';

const logger = createLogger({ service: 'sink-kafka-test', level: 'error' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * A sink killed between its guard and its COMMIT leaves its session's transaction holding
 * the partition row. Snowflake rolls such a transaction back once it has blocked another one
 * for 5 idle minutes; the test server does the same after this many seconds.
 */
const BLOCKING_IDLE_ABORT_S = 3;
let runs = 0;

interface Scenario {
  warehouse: 'duckdb' | 'snowflake';
  killSink: boolean;
  restartWarehouse: boolean;
}

describe('sink process on a real broker: crash and restart mid-stream', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function run({ warehouse, killSink, restartWarehouse }: Scenario) {
    const brokers = inject('kafkaBrokers');
    const prefix = `sink-kafka-${process.pid}-${Date.now()}-${runs++}.`;
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, warehouse === 'duckdb' ? 'warehouse.duckdb' : 'snowflake.duckdb');
    let sf: SnowflakeTestServer | null = null;
    if (warehouse === 'snowflake') {
      sf = await startSnowflakeTestServer({ port: 0, databasePath: dbPath, users: SF_USERS, blockingIdleAbortSeconds: BLOCKING_IDLE_ABORT_S });
      cleanups.push(() => sf?.stop());
    }
    const env: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      SINK_FLUSH_MS: '200',
      SINK_FLUSH_RECORDS: '250',
      SINK_RETRY_INITIAL_MS: '100',
      SINK_RETRY_MAX_MS: '1000',
      ...(sf ? snowflakeEnv(sf.url) : { DUCKDB_PATH: dbPath }),
    };

    const client = new KafkaBus({ brokers: brokers.split(','), clientId: 'sink-kafka-test', logger, topicPrefix: prefix });
    await client.connect();
    cleanups.push(() => client.close());
    await client.ensureTopics([
      { topic: TOPICS.scores, partitions: 3 },
      { topic: TOPICS.deadLetter, partitions: 3 },
    ]);
    // What is on the topic: the last offset of each partition, and how many records.
    const lastOffsets = new Map<number, number>();
    let seen = 0;
    await client.subscribe({
      groupId: `${prefix}check`,
      topics: [TOPICS.scores],
      handler: async ({ partition, records }) => {
        seen += records.length;
        lastOffsets.set(partition, Math.max(lastOffsets.get(partition) ?? -1, Number(records[records.length - 1]!.offset)));
      },
    });

    let sink: SinkProcess = await startSink(env);
    cleanups.push(() => sink.kill('SIGKILL'));
    const scoresLanded = async (s: SinkProcess) => {
      const m = /^ehr_sink_rows_landed_total\{table="severity_scores"[^}]*\} (\d+)/m.exec(await s.metrics());
      return Number(m?.[1] ?? 0);
    };

    const unique = 5000;
    const scores: SeverityScoreEvent[] = Array.from({ length: unique }, (_, i) => makeScore(i, { run: prefix, patients: 200 }));
    // Upstream re-emits some scores (same id, new offsets): they must not become second rows.
    const stream = [...scores, ...scores.slice(1000, 1200)].map(scoreMessage);
    let produced = 0;
    const produce = async (upTo: number) => {
      for (; produced < upTo; produced += 100) {
        await client.produce(TOPICS.scores, stream.slice(produced, Math.min(upTo, produced + 100)));
        await sleep(15);
      }
      produced = Math.min(produced, upTo);
    };

    await produce(1500);
    await waitFor(async () => (await scoresLanded(sink)) > 0, 60_000, 'first rows in the warehouse');
    let port = 0;
    if (restartWarehouse && sf) {
      port = sf.port;
      await sf.stop();
    }
    const rest = produce(stream.length);
    // Awaited below; if the test fails before that, its rejection is not left unhandled.
    rest.catch(() => undefined);
    if (killSink) {
      await sleep(300);
      await sink.kill('SIGKILL');
      sink = await startSink(env);
      await waitFor(async () => (await scoresLanded(sink)) > 0, 60_000, 'rows after the first restart');
      await sink.kill('SIGKILL');
      sink = await startSink(env);
    }
    if (restartWarehouse && sf) {
      // Scores keep coming while the warehouse is down: the sink says so, and holds on.
      await waitFor(async () => (await sink.ready()).status === 'degraded', 60_000, 'readiness to say degraded');
      expect((await sink.ready()).dependencies.warehouse?.state).toBe('degraded');
      sf = await startSnowflakeTestServer({ port, databasePath: dbPath, users: SF_USERS, blockingIdleAbortSeconds: BLOCKING_IDLE_ABORT_S });
    }
    await rest;

    await waitFor(() => seen === stream.length, 60_000, 'the check consumer to see every record');
    let offsets = new Map<string, number>();
    try {
      await waitFor(
        async () => {
          offsets = await sink.warehouseOffsets();
          return [...lastOffsets].every(([p, last]) => offsets.get(`${prefix}${TOPICS.scores}/${p}`) === last);
        },
        90_000,
        'the warehouse offsets to reach the end of every partition',
      );
    } catch (err) {
      const lines = sink.output().split('\n').filter((l) => !l.includes('"level":"info"') && !l.includes('"level":30'));
      throw new Error(`${(err as Error).message}\nend of topic: ${JSON.stringify([...lastOffsets])}\nwarehouse: ${JSON.stringify([...offsets])}\nsink log:\n${lines.slice(-40).join('\n')}`);
    }

    let rows: { id: string; partition: number; offset: number }[];
    if (warehouse === 'duckdb') {
      expect(await sink.kill('SIGTERM')).toBe(0);
      const instance = await DuckDBInstance.create(dbPath);
      const c = await instance.connect();
      rows = (await c.runAndReadAll('SELECT score_id AS id, src_partition AS partition, src_offset AS offset FROM severity_scores')).getRowObjectsJson().map((r) => ({
        id: r.id as string,
        partition: Number(r.partition),
        offset: Number(r.offset),
      }));
      c.closeSync();
      instance.closeSync();
    } else {
      const a = await analyst(sf!.url);
      rows = (await a.query('SELECT score_id AS ID, src_partition AS P, src_offset AS O FROM severity_scores')).map((r) => ({
        id: String(r.ID),
        partition: Number(r.P),
        offset: Number(r.O),
      }));
      await a.close();
      expect(await sink.kill('SIGTERM')).toBe(0);
    }
    expect(rows).toHaveLength(unique);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(scores.map((s) => s.payload.scoreId)));
    expect(new Set(rows.map((r) => `${r.partition}:${r.offset}`)).size).toBe(unique);
  }

  it('DuckDB: SIGKILL twice mid-stream, restart: every score exactly once', async () => {
    await run({ warehouse: 'duckdb', killSink: true, restartWarehouse: false });
  });

  it('Snowflake (test server, real driver): SIGKILL twice mid-stream, restart: every score exactly once', async () => {
    await run({ warehouse: 'snowflake', killSink: true, restartWarehouse: false });
  });

  it('Snowflake (test server, real driver): the warehouse restarted mid-stream: degraded meanwhile, every score exactly once', async () => {
    await run({ warehouse: 'snowflake', killSink: false, restartWarehouse: true });
  });
});
