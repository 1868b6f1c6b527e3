// Talking to the Snowflake-protocol test server through the real snowflake-sdk, with hard timeouts.
import type { Connection, ConnectionOptions } from 'snowflake-sdk';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';

const sdk = (await import('snowflake-sdk')).default;
sdk.configure({ logLevel: 'OFF' });

/** The users the test server lets in: the sink, and an analyst who reads what it wrote. */
export const SF_USERS = { sink: 'sink-password', analyst: 'analyst-password' };

/** The sink's env for the test server at `url` (password auth: development only). */
export const snowflakeEnv = (url: string): Record<string, string> => ({
  SINK_WAREHOUSE: 'snowflake',
  SNOWFLAKE_ACCOUNT: 'testacct',
  SNOWFLAKE_USER: 'sink',
  SNOWFLAKE_PASSWORD: 'sink-password',
  SNOWFLAKE_DATABASE: 'EHR',
  SNOWFLAKE_SCHEMA: 'PUBLIC',
  SNOWFLAKE_WAREHOUSE: 'WH',
  SNOWFLAKE_ACCESS_URL: url,
  SNOWFLAKE_TIMEOUT_MS: '15000',
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A separate analyst connection to read what the sink wrote. */
export async function analyst(url: string): Promise<{ query: (sql: string) => Promise<Record<string, unknown>[]>; close: () => Promise<void> }> {
  const conn = sdk.createConnection({
    account: 'testacct',
    username: 'analyst',
    password: 'analyst-password',
    database: 'EHR',
    schema: 'PUBLIC',
    warehouse: 'WH',
    accessUrl: url,
    sfRetryMaxNumRetries: 2,
    sfRetryStartingSleepTime: 0.1,
    sfRetryMaxSleepTime: 0.5,
  } as ConnectionOptions);
  await withTimeout(
    new Promise<Connection>((resolve, reject) => conn.connect((err, c) => (err ? reject(err) : resolve(c)))),
    15_000,
    'connect',
  );
  return {
    query: (sqlText) =>
      withTimeout(
        new Promise((resolve, reject) =>
          conn.execute({ sqlText, complete: (err, _s, rows) => (err ? reject(err) : resolve((rows ?? []) as Record<string, unknown>[])) }),
        ),
        15_000,
        sqlText.slice(0, 60),
      ),
    close: () => withTimeout(new Promise<void>((resolve) => conn.destroy(() => resolve())), 10_000, 'destroy'),
  };
}
