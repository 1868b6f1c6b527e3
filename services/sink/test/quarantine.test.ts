// Bad rows never stall the sink: a row the warehouse refuses (a cast, a constraint, a size)
// is split off and lands as a `warehouse_rejected` dead letter while the good rows land;
// a row outside the warehouse's bounds is quarantined before the warehouse sees it; an
// outage, unlike these, pauses and retries (warehouse-down.test.ts). On both warehouses.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS, type DeadLetter, type SeverityScoreEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, loadConfig, MIGRATIONS, type SinkService } from '../src/index.js';
import { featureDeadLetter, makeScore, metric, scoreMessage, tempDir, waitFor } from './helpers.js';
import { analyst, SF_USERS, snowflakeEnv } from './snowflake-helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

interface Target {
  /** Env of a sink on a fresh warehouse; `strictNews2`: severity_scores.news2 was made a 1-digit number. */
  env(dir: string, strictNews2: boolean): Promise<{ env: Record<string, string>; stop: () => Promise<void> }>;
}

const targets: [string, Target][] = [
  [
    'DuckDB',
    {
      async env(dir, strictNews2) {
        const path = join(dir, 'w.duckdb');
        if (strictNews2) {
          const instance = await DuckDBInstance.create(path);
          const c = await instance.connect();
          await c.run(MIGRATIONS[0]!.statements('duckdb')[0]!.replace('news2 INTEGER', 'news2 DECIMAL(1,0)'));
          c.closeSync();
          instance.closeSync();
        }
        return { env: { DUCKDB_PATH: path }, stop: async () => undefined };
      },
    },
  ],
  [
    'Snowflake (test server)',
    {
      async env(dir, strictNews2) {
        const server = await startSnowflakeTestServer({ port: 0, databasePath: join(dir, 'sf.duckdb'), users: SF_USERS });
        if (strictNews2) {
          const a = await analyst(server.url);
          await a.query(MIGRATIONS[0]!.statements('snowflake')[0]!.replace('news2 NUMBER(10,0)', 'news2 NUMBER(1,0)'));
          await a.close();
        }
        return { env: snowflakeEnv(server.url), stop: () => server.stop() };
      },
    },
  ],
];

describe.each(targets)('quarantine on %s', (_name, target) => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(strictNews2: boolean): Promise<{ service: SinkService; broker: MemoryBroker }> {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { env, stop } = await target.env(dir, strictNews2);
    cleanups.push(stop);
    const broker = new MemoryBroker({ defaultPartitions: 2 });
    const service = createSinkService({ config: loadConfig({ ...env, KAFKA_TOPIC_PARTITIONS: '2', SINK_FLUSH_MS: '50', SINK_FLUSH_RECORDS: '32' }), logger, bus: new MemoryBus({ broker }) });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    return { service, broker };
  }

  const landedAll = (service: SinkService, broker: MemoryBroker, topic: string) => {
    const partitions = broker.topics.get(topic)?.partitions ?? [];
    return partitions.every((p, i) => p.end === 0 || service.processor()!.landedOffset(topic, i) === BigInt(p.end - 1));
  };

  it('lands the good rows of a batch the warehouse refuses, and the refused ones as warehouse_rejected dead letters, without stalling', async () => {
    const { service, broker } = await start(true);
    const scores = Array.from({ length: 120 }, (_, i) => makeScore(i, { run: 'strict' }));
    const refused = scores.filter((s) => (s.payload.news2 ?? 0) >= 10);
    expect(refused.length).toBeGreaterThan(3);
    const messages = scores.map(scoreMessage);
    await new MemoryBus({ broker }).produce(TOPICS.scores, messages);
    await waitFor(() => landedAll(service, broker, TOPICS.scores), 60_000, 'every partition landed to its end');

    const w = service.warehouse;
    expect(await w.read('SELECT COUNT(*) AS n FROM severity_scores')).toEqual([{ n: String(scores.length - refused.length) }]);
    const letters = await w.read("SELECT reason, service, error, source_topic, source_partition, source_offset, original_bytes FROM dead_letters WHERE reason = 'warehouse_rejected'");
    expect(letters).toHaveLength(refused.length);
    const byId = new Map(messages.map((m) => [JSON.parse(m.value).payload.scoreId as string, m.value]));
    for (const letter of letters) {
      expect(letter).toMatchObject({ service: 'sink', source_topic: TOPICS.scores });
      expect(letter.error).toMatch(/the warehouse refused the row/);
      const original = Buffer.from(letter.original_bytes!, 'base64').toString();
      const event = JSON.parse(original) as SeverityScoreEvent;
      expect(event.payload.news2).toBeGreaterThanOrEqual(10);
      expect(original).toBe(byId.get(event.payload.scoreId));
    }
    const text = (await service.app.inject('/metrics')).body;
    expect(metric(text, 'ehr_sink_dead_letters_total', { reason: 'warehouse_rejected' })).toBe(refused.length);
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'data' })).toBe(refused.length);
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'error' })).toBe(0);
    expect((await service.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready' });
  });

  it('quarantines rows outside the warehouse bounds before the warehouse sees them, and lands a dead letter once however often it comes', async () => {
    const { service, broker } = await start(false);
    const producer = new MemoryBus({ broker });
    const yearZero = makeScore(1, { run: 'bounds' });
    yearZero.payload.eventTime = '0000-06-01T00:00:00Z';
    const letter = (overrides: Partial<DeadLetter>, producedAt = '2025-01-01T00:00:00.000Z'): DeadLetter => featureDeadLetter({ producedAt, ...overrides });
    await producer.produce(TOPICS.scores, [scoreMessage(makeScore(0, { run: 'bounds' })), scoreMessage(yearZero), scoreMessage(makeScore(2, { run: 'bounds' }))]);
    await producer.produce(TOPICS.deadLetter, [
      { key: 'p1', value: JSON.stringify(letter({})) },
      // the same dead letter again, produced later (its service met the record twice): lands once
      { key: 'p1', value: JSON.stringify(letter({}, '2025-01-01T00:05:00.000Z')) },
      { key: 'p1', value: JSON.stringify(letter({ eventId: 'dl-huge-partition', sourcePartition: 2 ** 40 })) },
      { key: 'p1', value: JSON.stringify(letter({ eventId: 'dl-huge-offset', sourceOffset: '123456789012345678901234567890' })) },
      { key: 'p1', value: JSON.stringify(letter({ eventId: 'dl-huge-key', originalKey: 'k'.repeat(10_000) })) },
    ]);
    await waitFor(() => landedAll(service, broker, TOPICS.scores) && landedAll(service, broker, TOPICS.deadLetter), 60_000, 'everything landed');

    const w = service.warehouse;
    expect(await w.read('SELECT COUNT(*) AS n FROM severity_scores')).toEqual([{ n: '2' }]);
    const rows = await w.read('SELECT dead_letter_id AS id, service, reason, error, src_topic FROM dead_letters ORDER BY service, reason, error');
    const own = rows.filter((r) => r.service === 'sink');
    expect(rows.filter((r) => r.id === 'dl-feature-1')).toHaveLength(1);
    // A score dated in year 0 no longer reaches the warehouse bounds: the contract refuses
    // any time before 1900 (schema_invalid); the bounds stay as a second guard.
    expect(own.map((r) => r.reason)).toEqual(['schema_invalid', 'warehouse_rejected', 'warehouse_rejected', 'warehouse_rejected']);
    const errors = own.map((r) => r.error).join('\n');
    expect(errors).toMatch(/column source_partition is 1099511627776, outside INTEGER/);
    expect(errors).toMatch(/column source_offset is 123456789012345678901234567890, outside BIGINT/);
    expect(errors).toMatch(/column original_key is 10000 characters, over its 4096/);
    const text = (await service.app.inject('/metrics')).body;
    // Never offered to the warehouse: no write was refused.
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'data' })).toBe(0);
    expect(metric(text, 'ehr_sink_dead_letters_total', { reason: 'warehouse_rejected' })).toBe(3);
    expect(metric(text, 'ehr_sink_dead_letters_total', { reason: 'schema_invalid' })).toBe(1);
  });
});
