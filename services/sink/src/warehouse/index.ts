import type { Logger } from '@ehr/runtime';
import { resolveDuckdbPath, snowflakeCredentials, warehouseKind, type SinkConfig } from '../config.js';
import { DuckDbWarehouse } from './duckdb.js';
import { SnowflakeWarehouse } from './snowflake.js';
import type { Warehouse } from './types.js';

export * from './types.js';
export * from './schema.js';
export * from './rows.js';
export { DuckDbWarehouse } from './duckdb.js';
export { SnowflakeWarehouse } from './snowflake.js';

/** The warehouse the config chooses: DuckDB by default, Snowflake when configured. */
export function createWarehouse(config: SinkConfig, logger: Logger, cwd: string): Warehouse {
  if (warehouseKind(config) === 'duckdb') return new DuckDbWarehouse({ path: resolveDuckdbPath(config, cwd), logger });
  const { account, username, database, auth } = snowflakeCredentials(config);
  return new SnowflakeWarehouse({
    account,
    username,
    auth,
    database,
    schema: config.SNOWFLAKE_SCHEMA,
    ...(config.SNOWFLAKE_WAREHOUSE ? { warehouse: config.SNOWFLAKE_WAREHOUSE } : {}),
    ...(config.SNOWFLAKE_ROLE ? { role: config.SNOWFLAKE_ROLE } : {}),
    ...(config.SNOWFLAKE_ACCESS_URL ? { accessUrl: config.SNOWFLAKE_ACCESS_URL } : {}),
    poolMax: config.SNOWFLAKE_POOL_MAX,
    timeoutMs: config.SNOWFLAKE_TIMEOUT_MS,
    logger,
  });
}
