// Opt-in: the warehouse contract against a live Snowflake account. Runs only when
// SNOWFLAKE_ACCOUNT, SNOWFLAKE_DATABASE and credentials are set (and SNOWFLAKE_ACCESS_URL
// is not, which would be the test server). Each test works in a scratch schema that it
// creates, SINK_TEST_<pid>_<time>_<n>, dropped when the file ends. See README.md, "Live Snowflake test".
import { createLogger } from '@ehr/runtime';
import { afterAll, describe } from 'vitest';
import { createWarehouse, loadConfig, MIGRATIONS, type SnowflakeWarehouse } from '../src/index.js';
import { warehouseContract } from './warehouse-contract.js';

const env = process.env;
const live = Boolean(
  env.SNOWFLAKE_ACCOUNT && env.SNOWFLAKE_DATABASE && !env.SNOWFLAKE_ACCESS_URL && (env.SNOWFLAKE_PASSWORD || env.SNOWFLAKE_PRIVATE_KEY_PATH || env.SNOWFLAKE_TOKEN),
);
const logger = createLogger({ service: 'sink-live-test', level: 'warn' });

describe.skipIf(!live)('live Snowflake (opt-in)', () => {
  // Only read when the suite runs: without credentials the config would not load.
  let admin: SnowflakeWarehouse | null = null;
  const base = () => loadConfig({ ...env, SINK_WAREHOUSE: 'snowflake' });
  const adminWarehouse = () => (admin ??= createWarehouse(base(), logger, process.cwd()) as SnowflakeWarehouse);
  const schemas: string[] = [];
  afterAll(async () => {
    if (!admin) return;
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });

  warehouseContract('live Snowflake', () => ({
    async open(options) {
      const schema = `SINK_TEST_${process.pid}_${Date.now()}_${schemas.length}`;
      schemas.push(schema);
      await adminWarehouse().query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      if (options?.strictNews2) await adminWarehouse().query(MIGRATIONS[0]!.statements('snowflake')[0]!.replace('severity_scores', `${schema}.severity_scores`).replace('news2 NUMBER(10,0)', 'news2 NUMBER(1,0)'));
      const config = { ...base(), SNOWFLAKE_SCHEMA: schema };
      const warehouse = createWarehouse(config, logger, process.cwd());
      await warehouse.init();
      return {
        warehouse,
        another: async () => {
          const other = createWarehouse(config, logger, process.cwd());
          await other.init();
          return other;
        },
      };
    },
    jsonNumber: (column, key) => `${column}:${key}::FLOAT`,
    jsonFirstText: (column, key) => `${column}[0]:${key}::STRING`,
  }));
});
