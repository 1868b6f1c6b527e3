import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BusEnv } from '@ehr/bus';
import { ConfigError, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

const optionalString = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const SinkEnv = Type.Composite([
  ServiceEnv,
  portEnv(3004),
  BusEnv,
  Type.Object({
    SINK_GROUP_ID: Type.String({ minLength: 1, default: 'sink', description: 'consumer group of the sink service' }),
    SINK_WAREHOUSE: Type.Optional(
      Type.Union([Type.Literal('duckdb'), Type.Literal('snowflake')], {
        description: 'where scores land (default: snowflake when SNOWFLAKE_ACCOUNT is set, else duckdb)',
      }),
    ),
    SINK_FLUSH_RECORDS: Type.Integer({ minimum: 1, default: 10_000, description: 'flush a partition buffer at this many records' }),
    // Counted on the wire: a compact score (about 1.9 kB) becomes a row with its whole
    // `features` object (about 6 kB), so the byte bounds are a quarter of what they were for
    // JSON scores, to hold the same number of rows in memory.
    SINK_FLUSH_BYTES: Type.Integer({
      minimum: 1024,
      default: 2 * 1024 * 1024,
      description: 'flush a partition buffer at this many bytes (message values and keys, plus 128 bytes a record)',
    }),
    // 500 ms: p99 score → committed row stays under 1.5 s at 2,000 scores/s on both warehouses (README, "Benchmark").
    SINK_FLUSH_MS: Type.Integer({ minimum: 10, default: 500, description: 'flush a partition buffer this long after its first record (or at the count or size, whichever comes first)' }),
    SINK_MAX_BUFFERED_BYTES: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: 'pause consumption while all buffers and writes in flight together hold more bytes than this (backpressure)',
    }),
    SINK_RECORD_MAX_ATTEMPTS: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'tries of a record whose conversion keeps throwing before it is dead-lettered as processing_error',
    }),
    SINK_STALL_MS: Type.Integer({
      minimum: 100,
      default: 30_000,
      description: 'a partition with records waiting and nothing landed for this long makes readiness degraded, naming it',
    }),
    SINK_RETRY_INITIAL_MS: Type.Integer({ minimum: 10, default: 500, description: 'first backoff after a failed warehouse write' }),
    SINK_RETRY_MAX_MS: Type.Integer({ minimum: 10, default: 30_000, description: 'longest backoff between warehouse retries' }),
    DUCKDB_PATH: optionalString('DuckDB file (default data/warehouse.duckdb under the repository root, else under the working directory)'),
    SNOWFLAKE_ACCOUNT: optionalString('Snowflake account identifier (orgname-account or locator)'),
    SNOWFLAKE_USER: optionalString('Snowflake user'),
    SNOWFLAKE_PASSWORD: optionalString('password (development only)'),
    SNOWFLAKE_PRIVATE_KEY_PATH: optionalString('PEM private key for key-pair (JWT) authentication'),
    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: optionalString('passphrase of an encrypted private key'),
    SNOWFLAKE_AUTHENTICATOR: Type.Optional(
      Type.Union([Type.Literal('SNOWFLAKE'), Type.Literal('SNOWFLAKE_JWT'), Type.Literal('OAUTH'), Type.Literal('PROGRAMMATIC_ACCESS_TOKEN')], {
        description: 'authenticator (default: SNOWFLAKE_JWT with a key, OAUTH with a token, else SNOWFLAKE)',
      }),
    ),
    SNOWFLAKE_TOKEN: optionalString('OAuth access token or programmatic access token'),
    SNOWFLAKE_DATABASE: optionalString('database of the sink tables'),
    SNOWFLAKE_SCHEMA: Type.String({ minLength: 1, default: 'PUBLIC', description: 'schema of the sink tables' }),
    SNOWFLAKE_WAREHOUSE: optionalString('virtual warehouse that runs the statements'),
    SNOWFLAKE_ROLE: optionalString('role to use'),
    SNOWFLAKE_ACCESS_URL: optionalString('URL to connect to instead of <account>.snowflakecomputing.com (private link, test server)'),
    SNOWFLAKE_POOL_MAX: Type.Integer({ minimum: 1, default: 4, description: 'connections in the pool' }),
    SNOWFLAKE_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 60_000, description: 'deadline of one warehouse operation' }),
  }),
]);
export type SinkConfig = Static<typeof SinkEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): SinkConfig => {
  const config = readConfig(SinkEnv, env, 'sink');
  if (warehouseKind(config) === 'snowflake') snowflakeCredentials(config);
  return config;
};

export type WarehouseKind = 'duckdb' | 'snowflake';

export function warehouseKind(config: Pick<SinkConfig, 'SINK_WAREHOUSE' | 'SNOWFLAKE_ACCOUNT'>): WarehouseKind {
  return config.SINK_WAREHOUSE ?? (config.SNOWFLAKE_ACCOUNT ? 'snowflake' : 'duckdb');
}

/** The repository root (a package.json with workspaces) at or above `from`, if any. */
export function findRepoRoot(from: string): string | null {
  let dir = resolve(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
      } catch {
        // not a readable manifest: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The DuckDB file: `DUCKDB_PATH` (relative to the working directory), or
 * `data/warehouse.duckdb` under the repository root, so `npm start` from the root and
 * `npm start -w services/sink` use the same file; outside a checkout, under `cwd`.
 */
export function resolveDuckdbPath(config: Pick<SinkConfig, 'DUCKDB_PATH'>, cwd: string): string {
  if (config.DUCKDB_PATH) return config.DUCKDB_PATH === ':memory:' || isAbsolute(config.DUCKDB_PATH) ? config.DUCKDB_PATH : resolve(cwd, config.DUCKDB_PATH);
  return join(findRepoRoot(cwd) ?? resolve(cwd), 'data', 'warehouse.duckdb');
}

export type SnowflakeAuth =
  | { authenticator: 'SNOWFLAKE'; password: string }
  | { authenticator: 'SNOWFLAKE_JWT'; privateKeyPath: string; privateKeyPass?: string }
  | { authenticator: 'OAUTH' | 'PROGRAMMATIC_ACCESS_TOKEN'; token: string };

/** Which credentials the Snowflake connection uses; fails naming the missing variable. */
export function snowflakeCredentials(config: SinkConfig): { account: string; username: string; database: string; auth: SnowflakeAuth } {
  const problems: { variable: string; message: string }[] = [];
  const need = (variable: 'SNOWFLAKE_ACCOUNT' | 'SNOWFLAKE_USER' | 'SNOWFLAKE_DATABASE', why: string) => {
    if (!config[variable]) problems.push({ variable, message: `is required ${why}` });
    return config[variable] ?? '';
  };
  const account = need('SNOWFLAKE_ACCOUNT', 'with SINK_WAREHOUSE=snowflake');
  const database = need('SNOWFLAKE_DATABASE', 'with SINK_WAREHOUSE=snowflake');
  const authenticator =
    config.SNOWFLAKE_AUTHENTICATOR ?? (config.SNOWFLAKE_PRIVATE_KEY_PATH ? 'SNOWFLAKE_JWT' : config.SNOWFLAKE_TOKEN ? 'OAUTH' : 'SNOWFLAKE');
  // OAuth tokens carry the user; everything else names one.
  const username = authenticator === 'OAUTH' ? (config.SNOWFLAKE_USER ?? '') : need('SNOWFLAKE_USER', `with SNOWFLAKE_AUTHENTICATOR=${authenticator}`);
  let auth: SnowflakeAuth | null = null;
  if (authenticator === 'SNOWFLAKE') {
    if (!config.SNOWFLAKE_PASSWORD) problems.push({ variable: 'SNOWFLAKE_PASSWORD', message: 'is required for password authentication (or set SNOWFLAKE_PRIVATE_KEY_PATH or SNOWFLAKE_TOKEN)' });
    else auth = { authenticator, password: config.SNOWFLAKE_PASSWORD };
  } else if (authenticator === 'SNOWFLAKE_JWT') {
    if (!config.SNOWFLAKE_PRIVATE_KEY_PATH) problems.push({ variable: 'SNOWFLAKE_PRIVATE_KEY_PATH', message: 'is required with SNOWFLAKE_AUTHENTICATOR=SNOWFLAKE_JWT' });
    else
      auth = {
        authenticator,
        privateKeyPath: config.SNOWFLAKE_PRIVATE_KEY_PATH,
        ...(config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ? { privateKeyPass: config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE } : {}),
      };
  } else if (!config.SNOWFLAKE_TOKEN) {
    problems.push({ variable: 'SNOWFLAKE_TOKEN', message: `is required with SNOWFLAKE_AUTHENTICATOR=${authenticator}` });
  } else {
    auth = { authenticator, token: config.SNOWFLAKE_TOKEN };
  }
  if (problems.length > 0 || !auth) {
    const lines = problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n');
    throw new ConfigError(`invalid configuration for sink:\n${lines}`, problems);
  }
  return { account, username, database, auth };
}
