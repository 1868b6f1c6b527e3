import type { Logger } from '@ehr/runtime';
import type { Bind, Connection, ConnectionOptions, ConfigureOptions, Pool as SdkPool } from 'snowflake-sdk';
import type { SnowflakeAuth } from '../config.js';
import {
  appendOffsetBinds,
  appendOffsetSql,
  bindRow,
  DEAD_LETTER_COLUMNS,
  deadLettersInsertSql,
  compactOffsetsSql,
  landedOffsetsSql,
  MIGRATIONS,
  migrationsTableDdl,
  SCORE_COLUMNS,
  scoresInsertSql,
  TABLES,
} from './schema.js';
import { CompactionSchedule, OffsetConflictError, type LandBatch, type LandResult, type Warehouse } from './types.js';

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

function execute(connection: Connection, sqlText: string, binds?: readonly Bind[] | readonly Bind[][]): Promise<{ rows: unknown[][]; updated: number }> {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      ...(binds ? { binds } : {}),
      rowMode: 'array',
      fetchAsString: ['Number'],
      complete: (err, stmt, rows) => {
        if (err) reject(err);
        else resolve({ rows: (rows ?? []) as unknown[][], updated: stmt.getNumUpdatedRows() ?? -1 });
      },
    });
  });
}

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * Snowflake through snowflake-sdk and its connection pool. One batch = one transaction on
 * one connection: array-bound INSERTs (VARIANT columns through PARSE_JSON), then the
 * guarded offset move, then COMMIT. A connection that failed mid-way is destroyed, never
 * returned to the pool, so no half-open transaction is reused.
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
        // A conflict rolled back cleanly; anything else may have left a transaction open.
        if (err instanceof OffsetConflictError) await pool.release(connection).catch(() => undefined);
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
      // INSERTs only, no UPDATE or MERGE: an INSERT takes no lock in Snowflake, so a sink
      // killed before COMMIT leaves no detached transaction blocking the next one.
      await execute(c, 'BEGIN TRANSACTION');
      let scoresInserted = 0;
      let deadLettersInserted = 0;
      const scoreRows = Math.max(1, Math.floor(ARRAY_BIND_THRESHOLD / SCORE_COLUMNS.length));
      for (const chunk of chunks(batch.scores, scoreRows)) {
        scoresInserted += (await execute(c, scoresInsertSql('snowflake', null), chunk.map((r) => bindRow(SCORE_COLUMNS, r)))).updated;
      }
      const deadLetterRows = Math.max(1, Math.floor(ARRAY_BIND_THRESHOLD / DEAD_LETTER_COLUMNS.length));
      for (const chunk of chunks(batch.deadLetters, deadLetterRows)) {
        deadLettersInserted += (await execute(c, deadLettersInsertSql('snowflake', null), chunk.map((r) => bindRow(DEAD_LETTER_COLUMNS, r)))).updated;
      }
      // Last: the guard looks at the offset as late as possible before the commit.
      const moved = await execute(c, appendOffsetSql('snowflake'), appendOffsetBinds(batch, batch.scores.length + batch.deadLetters.length));
      if (moved.updated !== 1) {
        await execute(c, 'ROLLBACK');
        throw new OffsetConflictError(batch, batch.expectedLastOffset);
      }
      await execute(c, 'COMMIT');
      if (this.compaction.due(batch)) {
        // Autocommit, one statement: nothing is left locked if the sink dies meanwhile.
        await execute(c, compactOffsetsSql('snowflake'), [batch.cluster, batch.topic, String(batch.partition), String(batch.lastOffset)]).catch(() => undefined);
      }
      return { scoresInserted, deadLettersInserted };
    });
  }

  /** Helper for tests, benchmarks and tools: one statement on a pooled connection, rows as arrays. */
  async query(sql: string, binds: Bind[] = []): Promise<unknown[][]> {
    return this.withConnection(async (c) => (await execute(c, sql, binds.length > 0 ? binds : undefined)).rows);
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
