import type { Logger } from '@ehr/runtime';
import type { Bind, Connection, ConnectionOptions, ConfigureOptions, Pool as SdkPool } from 'snowflake-sdk';
import type { SnowflakeAuth } from '../config.js';
import {
  ALERT_COLUMNS,
  alertsInsertSql,
  bindRow,
  claimPartitionBinds,
  claimPartitionSql,
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
  scoresInsertSql,
  shadowScoresInsertSql,
  TABLES,
} from './schema.js';
import { CompactionSchedule, OffsetConflictError, WarehouseDataError, type LandBatch, type LandResult, type Warehouse } from './types.js';

export interface SnowflakeWarehouseOptions {
  account: string;
  username: string;
  auth: SnowflakeAuth;
  database: string;
  schema: string;
  warehouse?: string;
  role?: string;
  /** `http://127.0.0.1:<port>` for the test server, or a private-link URL. */
  accessUrl?: string;
  poolMax: number;
  /** Deadline of one operation (a whole batch transaction); past it the connection is dropped. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * Binds per statement: under the driver's stage-binding threshold (set explicitly so
 * the login parameter cannot change it), so a batch is always sent as plain array binds.
 */
const ARRAY_BIND_THRESHOLD = 100_000;

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

type Pool = SdkPool<Connection>;
type Sdk = { configure(options: ConfigureOptions): void; createPool(options: ConnectionOptions, poolOptions: object): Pool };

/**
 * Loaded on first use only: the driver pulls in cloud SDKs at import time (slow, and a
 * Node-version warning on stderr), which a DuckDB-only sink never needs.
 */
async function loadSdk(): Promise<Sdk> {
  const mod = (await import('snowflake-sdk')) as unknown as { default?: Sdk } & Sdk;
  return mod.default ?? mod;
}

let driverConfigured = false;

/** The driver logs through pino, errors only (its messages are already secret-masked). */
function configureDriver(snowflake: Sdk, logger: Logger): void {
  if (driverConfigured) return;
  driverConfigured = true;
  const log = logger.child({ component: 'snowflake-sdk' });
  snowflake.configure({
    logLevel: 'ERROR',
    customLogger: {
      error: (m: string) => log.error(m),
      warn: (m: string) => log.warn(m),
      info: (m: string) => log.debug(m),
      debug: (m: string) => log.trace(m),
      trace: (m: string) => log.trace(m),
    },
  });
}

interface Executed {
  rows: unknown[][];
  updated: number;
  columns: string[];
}

function execute(connection: Connection, sqlText: string, binds?: readonly Bind[] | readonly Bind[][]): Promise<Executed> {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      ...(binds ? { binds } : {}),
      rowMode: 'array',
      fetchAsString: ['Number', 'Boolean', 'Date', 'JSON'],
      complete: (err, stmt, rows) => {
        if (err) reject(err);
        else resolve({ rows: (rows ?? []) as unknown[][], updated: stmt.getNumUpdatedRows() ?? -1, columns: (stmt.getColumns() ?? []).map((c) => c.getName()) });
      },
    });
  });
}

/** Lock conflicts on the partition's row (another writer holds it): try again after re-reading. */
const LOCK_CONFLICT = '000625';

/**
 * Snowflake's errors about the data itself: SQLSTATE class 22 (data exception: a failed
 * cast, a number out of range, a string too long, invalid JSON) or 23 (a constraint, such
 * as NULL into NOT NULL), and the 100xxx codes Snowflake uses for them. Anything else
 * (network, login, a session gone, a timeout) is an outage.
 */
function classify(err: unknown, batch: LandBatch): unknown {
  if (err instanceof OffsetConflictError || err instanceof WarehouseDataError || err instanceof TimeoutError) return err;
  const e = err as { code?: unknown; sqlState?: unknown; message?: unknown };
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : '';
  const sqlState = typeof e.sqlState === 'string' ? e.sqlState : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === LOCK_CONFLICT) return new OffsetConflictError(batch, batch.expectedLastOffset, 'another writer holds the partition row');
  if (/^2[23]/.test(sqlState) || /^100\d{3}$/.test(code)) return new WarehouseDataError(message.split('\n')[0]!, code);
  return err;
}

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * Snowflake through snowflake-sdk and its connection pool. One batch = one transaction on
 * one connection: array-bound INSERTs (VARIANT columns through PARSE_JSON), the batch's
 * line in the offset log, then the guarded UPDATE of the partition's row, then COMMIT. A
 * connection that failed mid-way is destroyed, never returned to the pool, so no half-open
 * transaction is reused.
 */
export class SnowflakeWarehouse implements Warehouse {
  readonly kind = 'snowflake' as const;
  readonly description: string;
  private pool: Pool | null = null;
  private readonly compaction = new CompactionSchedule();

  constructor(private readonly options: SnowflakeWarehouseOptions) {
    // Never the credentials: account, database and schema only.
    this.description = `snowflake ${options.account}/${options.database}.${options.schema}${options.accessUrl ? ` via ${options.accessUrl}` : ''}`;
  }

  private connectionOptions(): ConnectionOptions {
    const o = this.options;
    const auth: Partial<ConnectionOptions> =
      o.auth.authenticator === 'SNOWFLAKE'
        ? { password: o.auth.password }
        : o.auth.authenticator === 'SNOWFLAKE_JWT'
          ? { authenticator: 'SNOWFLAKE_JWT', privateKeyPath: o.auth.privateKeyPath, ...(o.auth.privateKeyPass ? { privateKeyPass: o.auth.privateKeyPass } : {}) }
          : { authenticator: o.auth.authenticator, token: o.auth.token };
    return {
      account: o.account,
      username: o.username,
      database: o.database,
      schema: o.schema,
      ...(o.warehouse ? { warehouse: o.warehouse } : {}),
      ...(o.role ? { role: o.role } : {}),
      ...(o.accessUrl ? { accessUrl: o.accessUrl } : {}),
      ...auth,
      application: 'ehr-severity-sink',
      arrayBindingThreshold: ARRAY_BIND_THRESHOLD,
      timeout: o.timeoutMs,
      clientSessionKeepAlive: true,
      // The driver would retry a dead server for minutes (it looks like a hang); the sink
      // has its own backoff, which re-reads the warehouse offsets before writing again.
      sfRetryMaxLoginRetries: 2,
      ...({ sfRetryMaxNumRetries: 3, sfRetryStartingSleepTime: 0.25, sfRetryMaxSleepTime: 2 } as Partial<ConnectionOptions>),
    };
  }

  private async getPool(): Promise<Pool> {
    if (!this.pool) {
      const snowflake = await loadSdk();
      configureDriver(snowflake, this.options.logger);
      this.pool = snowflake.createPool(this.connectionOptions(), {
        max: this.options.poolMax,
        min: 0,
        testOnBorrow: true,
        acquireTimeoutMillis: this.options.timeoutMs,
        evictionRunIntervalMillis: 60_000,
        idleTimeoutMillis: 300_000,
      });
    }
    return this.pool;
  }

  /** Runs `work` on one pooled connection, within the deadline; a failed connection is destroyed. */
  private async withConnection<T>(work: (c: Connection) => Promise<T>): Promise<T> {
    const pool = await this.getPool();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`snowflake operation exceeded ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    let connection: Connection | null = null;
    try {
      connection = await Promise.race([pool.acquire(), deadline]);
      const result = await Promise.race([work(connection), deadline]);
      await pool.release(connection);
      return result;
    } catch (err) {
      if (connection) {
        // A conflict or refused data was rolled back cleanly; anything else may have left a transaction open.
        if (err instanceof OffsetConflictError || err instanceof WarehouseDataError) await pool.release(connection).catch(() => undefined);
        else void pool.destroy(connection).catch(() => undefined);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async init(): Promise<void> {
    await this.withConnection(async (c) => {
      await execute(c, migrationsTableDdl('snowflake'));
      const { rows } = await execute(c, `SELECT COALESCE(MAX(version), 0) FROM ${TABLES.migrations}`);
      const applied = Number(rows[0]?.[0] ?? 0);
      // DDL commits implicitly in Snowflake: every step is idempotent instead of transactional.
      for (const m of MIGRATIONS.filter((x) => x.version > applied)) {
        for (const sql of m.statements('snowflake')) await execute(c, sql);
        await execute(c, `INSERT INTO ${TABLES.migrations} (version, description) SELECT ?, ?`, [m.version, m.description]);
        this.options.logger.info({ version: m.version, description: m.description }, 'warehouse schema migrated');
      }
    });
  }

  async landedOffsets(cluster: string, topic: string): Promise<Map<number, bigint>> {
    return this.withConnection(async (c) => {
      const { rows } = await execute(c, landedOffsetsSql, [cluster, topic]);
      return new Map(rows.map((row) => [Number(row[0]), BigInt(String(row[1]))]));
    });
  }

  async land(batch: LandBatch): Promise<LandResult> {
    return this.withConnection(async (c) => {
      // A partition's first batch: its guard row must exist before any transaction counts on it.
      if (batch.expectedLastOffset === -1n) await execute(c, claimPartitionSql('snowflake'), claimPartitionBinds(batch));
      await execute(c, 'BEGIN TRANSACTION');
      let result: LandResult;
      try {
        let scoresInserted = 0;
        let deadLettersInserted = 0;
        const scoreRows = Math.max(1, Math.floor(ARRAY_BIND_THRESHOLD / SCORE_COLUMNS.length));
        for (const chunk of chunks(batch.scores, scoreRows)) {
          scoresInserted += (await execute(c, scoresInsertSql('snowflake', null), chunk.map((r) => bindRow(SCORE_COLUMNS, r)))).updated;
        }
        let shadowScoresInserted = 0;
        for (const chunk of chunks(batch.shadowScores ?? [], scoreRows)) {
          shadowScoresInserted += (await execute(c, shadowScoresInsertSql('snowflake', null), chunk.map((r) => bindRow(SCORE_COLUMNS, r)))).updated;
        }
        const deadLetterRows = Math.max(1, Math.floor(ARRAY_BIND_THRESHOLD / DEAD_LETTER_COLUMNS.length));
        for (const chunk of chunks(batch.deadLetters, deadLetterRows)) {
          deadLettersInserted += (await execute(c, deadLettersInsertSql('snowflake', null), chunk.map((r) => bindRow(DEAD_LETTER_COLUMNS, r)))).updated;
        }
        let alertsInserted = 0;
        const alertRows = Math.max(1, Math.floor(ARRAY_BIND_THRESHOLD / ALERT_COLUMNS.length));
        for (const chunk of chunks(batch.alerts ?? [], alertRows)) {
          alertsInserted += (await execute(c, alertsInsertSql('snowflake', null), chunk.map((r) => bindRow(ALERT_COLUMNS, r)))).updated;
        }
        await execute(c, logBatchSql('snowflake'), logBatchBinds(batch));
        // Last: the partition row's lock is held for the COMMIT's round trip only.
        const moved = await execute(c, guardSql('snowflake'), guardBinds(batch));
        if (moved.updated < 1) throw new OffsetConflictError(batch, batch.expectedLastOffset);
        await execute(c, 'COMMIT');
        result = { scoresInserted, deadLettersInserted, alertsInserted, ...(batch.shadowScores ? { shadowScoresInserted } : {}) };
      } catch (err) {
        const classified = classify(err, batch);
        // Only a connection whose transaction is known to be rolled back goes back to the pool.
        if (classified instanceof OffsetConflictError || classified instanceof WarehouseDataError) await execute(c, 'ROLLBACK');
        throw classified;
      }
      if (this.compaction.due(batch)) {
        // Autocommit, one statement: nothing is left locked if the sink dies meanwhile.
        await execute(c, compactOffsetsSql('snowflake'), [batch.cluster, batch.topic, String(batch.partition), String(batch.lastOffset)]).catch(() => undefined);
      }
      return result;
    });
  }

  /** Helper for tools and the live test: one statement on a pooled connection, rows as arrays. */
  async query(sql: string, binds: Bind[] = []): Promise<unknown[][]> {
    return this.withConnection(async (c) => (await execute(c, sql, binds.length > 0 ? binds : undefined)).rows);
  }

  async read(sql: string, params: readonly (string | number | null)[] = []): Promise<Record<string, string | null>[]> {
    return this.withConnection(async (c) => {
      const { rows, columns } = await execute(c, sql, params.length > 0 ? (params) : undefined);
      return rows.map((row) => Object.fromEntries(columns.map((name, k) => [name.toLowerCase(), row[k] === null || row[k] === undefined ? null : String(row[k] as string)])));
    });
  }

  async ping(): Promise<void> {
    await this.withConnection((c) => execute(c, 'SELECT 1'));
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) {
      await pool.drain();
      await pool.clear();
    }
  }
}
