/**
 * Drives the server through the real snowflake-sdk. The driver retries 5xx answers and
 * network errors for a long time, so every call here has a hard timeout.
 */
import type { Connection, ConnectionOptions, RowStatement } from 'snowflake-sdk';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

const sdk = (await import('snowflake-sdk')).default;
sdk.configure({ logLevel: 'OFF' });
export const snowflake = sdk;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The user every test logs in as (the server lets in configured users only). */
export const USERS = { sink: 'sink-password' };

export function connectionOptions(url: string, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    account: 'testacct',
    username: 'sink',
    password: 'sink-password',
    database: 'EHR',
    schema: 'PUBLIC',
    warehouse: 'WH',
    accessUrl: url,
    // a server that is down must fail a test, not hang it
    sfRetryMaxNumRetries: 3,
    sfRetryStartingSleepTime: 0.1,
    sfRetryMaxSleepTime: 0.5,
    ...extra,
  } as ConnectionOptions;
}

export async function connect(url: string, extra: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const conn = snowflake.createConnection(connectionOptions(url, extra));
  return withTimeout(
    new Promise<Connection>((resolve, reject) => {
      conn.connect((err, c) => (err ? reject(err) : resolve(c)));
    }),
    15_000,
    'connect',
  );
}

export interface ExecResult {
  rows: Record<string, unknown>[];
  stmt: RowStatement;
}

export function exec(conn: Connection, sqlText: string, binds?: unknown[], timeoutMs = 30_000): Promise<ExecResult> {
  return withTimeout(
    new Promise<ExecResult>((resolve, reject) => {
      conn.execute({
        sqlText,
        ...(binds ? { binds: binds as never } : {}),
        complete: (err, stmt, rows) => (err ? reject(err) : resolve({ rows: (rows ?? []) as Record<string, unknown>[], stmt })),
      });
    }),
    timeoutMs,
    sqlText.slice(0, 60),
  );
}

export function destroy(conn: Connection): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      conn.destroy(() => resolve());
    }),
    10_000,
    'destroy',
  );
}

/** The error a statement fails with (the test fails if it succeeds). */
export async function execError(conn: Connection, sqlText: string, binds?: unknown[]): Promise<Error & { code?: string; sqlState?: string }> {
  try {
    await exec(conn, sqlText, binds);
  } catch (err) {
    return err as Error & { code?: string; sqlState?: string };
  }
  throw new Error(`expected an error from: ${sqlText}`);
}
