import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '@ehr/runtime';
import {
  ALERT_COLUMNS,
  alertsInsertSql,
  bindRow,
  claimPartitionBinds,
  claimPartitionSql,
  type Column,
  compactOffsetsSql,
  DEAD_LETTER_COLUMNS,
  deadLettersInsertSql,
  guardBinds,
  guardSql,
  landedOffsetsSql,
  logBatchBinds,
  logBatchSql,
  MIGRATIONS,
  migrationsTableDdl,
  SCORE_COLUMNS,
  SCORE_TIME_COLUMN,
  scoresInsertSql,
  shadowScoresInsertSql,
  stagedTimeRangeSql,
  TABLES,
} from './schema.js';
import { CompactionSchedule, OffsetConflictError, WarehouseDataError, type LandBatch, type LandResult, type Warehouse } from './types.js';

const STAGE = { scores: 'sink_stage_scores', deadLetters: 'sink_stage_dead_letters', alerts: 'sink_stage_alerts' } as const;

export interface DuckDbWarehouseOptions {
  /** A file path, or ':memory:'. */
  path: string;
  logger: Logger;
  /** DuckDB's memory_limit (default DUCKDB_MEMORY_LIMIT); past it DuckDB spills to disk. */
  memoryLimit?: string;
  /** DuckDB's worker threads (default DUCKDB_THREADS). */
  threads?: number;
  /** WAL size that triggers a checkpoint (default DUCKDB_CHECKPOINT_THRESHOLD; benches compare others). */
  checkpointThreshold?: string;
  /** Rows per row group of a file warehouse (default DUCKDB_ROW_GROUP_SIZE; benches compare others). */
  rowGroupSize?: number;
}

/**
 * DuckDB's own default is 80 % of the machine's memory, which it uses as a cache: under a
 * steady stream of 6 KB score rows the sink's resident memory swung between 0.3 and 1 GB
 * (measured by the e2e big-patient test). The limit was chosen by the sink's bench
 * (README, "DuckDB memory"): below it the write rate does not change. With real rows (the
 * 6.8 KB features text; bench/rows.ts, README "Where the resident memory is") the buffer pool
 * does fill to it, with rows not yet checkpointed, and 64MB took 55 MiB off the peak RSS, but
 * ran out of memory at 100,000 rows in batches of 1,000 ("failed to pin block"); 32MB failed
 * at once. 128MB has the margin.
 */
export const DUCKDB_MEMORY_LIMIT = '128MB';
/** One worker thread: the sink writes one small batch at a time; more threads only add memory. */
export const DUCKDB_THREADS = 1;

/**
 * DuckDB's allocator (jemalloc) keeps what a thread freed until that thread's allocations
 * since its last flush pass allocator_flush_threshold (128 MiB by default), which a sink's
 * transaction of a few MiB seldom does; its buffer pool meanwhile held only 20-35 MiB. A
 * threshold of 16 MB and a background thread that returns freed memory: the sink's peak RSS
 * 327 against 371 MiB in the pipeline bench (20,000 events then 10 s at 300/s, load 16-31;
 * same rate, 606 vs 661 events/s, within that load's noise).
 */
export const DUCKDB_ALLOCATOR = { allocator_flush_threshold: '16MB', allocator_background_threads: 'true' } as const;

/**
 * Rows per row group in the warehouse file (DuckDB's default is 122,880). A checkpoint
 * rewrites each table's open row group whole, so with DuckDB's default every checkpoint
 * rewrote up to 122,880 rows of 7 KB score rows, and its cost grew with the table until the
 * group filled: the commit that checkpoints holds every partition's next write behind it,
 * and that stall set the sink's p99. `bench/rows.ts`, 200,000 real score rows in 500-row
 * transactions (load 1-1.4): the longest landing 3,336 ms at 122,880 rows and a 256 MB
 * threshold; 403 ms at 4,096 rows and 16 MB; 203 ms at 2,048 rows and 16 MB, with the median
 * landing unchanged (34-37 ms) and 8 % less CPU. Small row groups cost a scan a little more
 * metadata, which a table read by patient and time can afford. DuckDB takes the size only
 * when a file is attached, so a file warehouse is attached, not opened (`init`).
 */
export const DUCKDB_ROW_GROUP_SIZE = 2048;

/**
 * WAL size that triggers a checkpoint: DuckDB's own 16 MB, about 2,300 score rows. Once
 * row groups are small a checkpoint writes little more than the WAL held, so a small
 * threshold keeps each one short: 16 MB gave the longest landing 203 ms, 64 MB 277 ms (same
 * bench as above). Before the row groups were small it was 256 MB, to checkpoint seldom.
 */
export const DUCKDB_CHECKPOINT_THRESHOLD = '16MB';

/** The name the warehouse file is attached under; every statement runs against it (`USE`). */
const ATTACHED = 'warehouse';

/** The settings DuckDB is opened with. */
export const duckdbInstanceOptions = (options: Pick<DuckDbWarehouseOptions, 'memoryLimit' | 'threads' | 'checkpointThreshold'>): Record<string, string> => ({
  memory_limit: options.memoryLimit ?? DUCKDB_MEMORY_LIMIT,
  threads: String(options.threads ?? DUCKDB_THREADS),
  ...DUCKDB_ALLOCATOR,
  checkpoint_threshold: options.checkpointThreshold ?? DUCKDB_CHECKPOINT_THRESHOLD,
});

/**
 * DuckDB's errors about the data itself (a failed cast, a constraint, a value out of range)
 * as opposed to the file or the engine. The message is all there is to go by.
 */
const DATA_ERROR = /^(Conversion|Constraint|Invalid Input|Out of Range|Mismatch Type) Error:/;

function classify(err: unknown): unknown {
  if (err instanceof OffsetConflictError || err instanceof WarehouseDataError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return DATA_ERROR.test(message) ? new WarehouseDataError(message.split('\n')[0]!) : err;
}

/** A value of `getRowObjectsJson()` (JSON-safe: strings, numbers, booleans, arrays, objects) as text. */
function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * The embedded default: one DuckDB file, one connection, writes serialized. A batch goes
 * through the appender into a temporary staging table, then into the real table, then the
 * offset log and the guarded move of the partition's row, all in one transaction (DuckDB's
 * WAL makes the commit durable).
 */
export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  readonly description: string;
  private instance: DuckDBInstance | null = null;
  private connection: DuckDBConnection | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly compaction = new CompactionSchedule();

  constructor(private readonly options: DuckDbWarehouseOptions) {
    this.description = `duckdb ${options.path}`;
  }

  /** Runs `work` after every earlier operation: one connection, one transaction at a time. */
  private serialize<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (!this.connection) throw new Error('duckdb warehouse is not open');
      return work(this.connection);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async init(): Promise<void> {
    if (!this.connection) {
      if (this.options.path !== ':memory:') mkdirSync(dirname(this.options.path), { recursive: true });
      const instance = await DuckDBInstance.create(':memory:', duckdbInstanceOptions(this.options));
      const connection = await instance.connect();
      try {
        if (this.options.path !== ':memory:') {
          await connection.run(`ATTACH '${this.options.path.replaceAll("'", "''")}' AS ${ATTACHED} (ROW_GROUP_SIZE ${this.options.rowGroupSize ?? DUCKDB_ROW_GROUP_SIZE})`);
          await connection.run(`USE ${ATTACHED}`);
        }
      } catch (err) {
        // A file another process holds, one that is not DuckDB's, or a row group size DuckDB
        // refuses (not a multiple of 2,048): nothing stays open behind the error.
        connection.closeSync();
        instance.closeSync();
        throw err;
      }
      this.instance = instance;
      this.connection = connection;
    }
    await this.serialize(async (c) => {
      await c.run(migrationsTableDdl('duckdb'));
      const reader = await c.runAndReadAll(`SELECT COALESCE(MAX(version), 0) FROM ${TABLES.migrations}`);
      const applied = Number(reader.getRows()[0]?.[0] ?? 0);
      const pending = MIGRATIONS.filter((x) => x.version > applied);
      for (const m of pending) {
        await c.run('BEGIN TRANSACTION');
        try {
          for (const sql of m.statements('duckdb')) await c.run(sql);
          await c.run(`INSERT INTO ${TABLES.migrations} (version, description) VALUES (?, ?)`, [m.version, m.description]);
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
        this.options.logger.info({ version: m.version, description: m.description }, 'warehouse schema migrated');
      }
      // DDL out of the WAL at once: DuckDB's replay of some DDL after a crash is its least trodden path.
      if (pending.length > 0) await c.run('CHECKPOINT');
      // Text columns, the casts done by the INSERT, except JSON: the appender stores a JSON
      // column's text as it is, so the INSERT's cast is JSON to JSON and skips the parse that
      // validating 7 KB of features per row cost (a VARCHAR → JSON cast parses; bench/rows.ts:
      // 6 % of the sink's CPU). Every JSON text the sink writes is JSON by construction
      // (JSON.stringify, or featuresJson, tested against it).
      const stageColumns = (columns: readonly { name: string; type: string }[]) => columns.map((c) => `${c.name} ${c.type === 'json' ? 'JSON' : 'VARCHAR'}`).join(', ');
      await c.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE.scores} (${stageColumns(SCORE_COLUMNS)})`);
      await c.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE.deadLetters} (${stageColumns(DEAD_LETTER_COLUMNS)})`);
      await c.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE.alerts} (${stageColumns(ALERT_COLUMNS)})`);
    });
  }

  async landedOffsets(cluster: string, topic: string): Promise<Map<number, bigint>> {
    return this.serialize(async (c) => {
      const reader = await c.runAndReadAll(landedOffsetsSql, [cluster, topic]);
      return new Map(reader.getRows().map((row) => [Number(row[0]), BigInt(row[1] as bigint | number)]));
    });
  }

  async land(batch: LandBatch): Promise<LandResult> {
    return this.serialize(async (c) => {
      // A partition's first batch: its guard row must exist before any transaction counts on it.
      if (batch.expectedLastOffset === -1n) await c.run(claimPartitionSql('duckdb'), claimPartitionBinds(batch));
      await c.run('BEGIN TRANSACTION');
      let result: LandResult;
      try {
        const scoresInserted = await this.insert(c, STAGE.scores, batch.scores, SCORE_COLUMNS, scoresInsertSql('duckdb', STAGE.scores), SCORE_TIME_COLUMN);
        const deadLettersInserted = await this.insert(c, STAGE.deadLetters, batch.deadLetters, DEAD_LETTER_COLUMNS, deadLettersInsertSql('duckdb', STAGE.deadLetters));
        const alertsInserted = await this.insert(c, STAGE.alerts, batch.alerts ?? [], ALERT_COLUMNS, alertsInsertSql('duckdb', STAGE.alerts));
        // Same columns as scores: the scores' staging table serves (it is emptied after each insert).
        const shadow = batch.shadowScores ? await this.insert(c, STAGE.scores, batch.shadowScores, SCORE_COLUMNS, shadowScoresInsertSql('duckdb', STAGE.scores), SCORE_TIME_COLUMN) : null;
        await c.run(logBatchSql('duckdb'), logBatchBinds(batch));
        const moved = await c.run(guardSql('duckdb'), guardBinds(batch));
        if (moved.rowsChanged < 1) throw new OffsetConflictError(batch, batch.expectedLastOffset);
        await c.run('COMMIT');
        result = { scoresInserted, deadLettersInserted, alertsInserted, ...(shadow === null ? {} : { shadowScoresInserted: shadow }) };
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        // The staging tables are temporary and outside the rolled-back work only if emptied.
        await c.run(`DELETE FROM ${STAGE.scores}`).catch(() => undefined);
        await c.run(`DELETE FROM ${STAGE.deadLetters}`).catch(() => undefined);
        await c.run(`DELETE FROM ${STAGE.alerts}`).catch(() => undefined);
        throw classify(err);
      }
      if (this.compaction.due(batch)) {
        await c.run(compactOffsetsSql('duckdb'), [batch.cluster, batch.topic, String(batch.partition), String(batch.lastOffset)]).catch(() => undefined);
      }
      return result;
    });
  }

  /** Appends `rows` to `stage`, then runs `sql` from it; with `timeColumn`, binds the stage's time range first (insertSql's window). */
  private async insert<R>(c: DuckDBConnection, stage: string, rows: readonly R[], columns: readonly Column<R>[], sql: string, timeColumn: string | null = null): Promise<number> {
    if (rows.length === 0) return 0;
    const appender = await c.createAppender(stage, 'main', 'temp');
    try {
      for (const row of rows) {
        for (const value of bindRow(columns, row)) {
          if (value === null) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    // The batch's earliest and latest time, as DuckDB reads them, bound as they came back.
    const window = timeColumn ? ((await c.runAndReadAll(stagedTimeRangeSql(stage, timeColumn))).getRows()[0] ?? []) : [];
    const inserted = window.length > 0 ? await c.run(sql, window) : await c.run(sql);
    await c.run(`DELETE FROM ${stage}`);
    return inserted.rowsChanged;
  }

  async read(sql: string, params: readonly (string | number | null)[] = []): Promise<Record<string, string | null>[]> {
    return this.serialize(async (c) => {
      const rows = (await c.runAndReadAll(sql, [...params])).getRowObjectsJson();
      return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), asText(v)])));
    });
  }

  async ping(): Promise<void> {
    await this.serialize((c) => c.run('SELECT 1'));
  }

  async close(): Promise<void> {
    await this.queue;
    const connection = this.connection;
    this.connection = null;
    if (connection) {
      await connection.run('CHECKPOINT').catch(() => undefined);
      connection.closeSync();
    }
    this.instance?.closeSync();
    this.instance = null;
  }
}
