// The warehouse contract against Snowflake: the sink's real Snowflake warehouse, through the
// real snowflake-sdk, against the project's Snowflake-protocol test server.
import { join } from 'node:path';
import { createLogger } from '@ehr/runtime';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '@ehr/snowflake-test-server';
import { afterAll, afterEach } from 'vitest';
import { createWarehouse, loadConfig, MIGRATIONS } from '../src/index.js';
import { tempDir } from './helpers.js';
import { analyst, SF_USERS, snowflakeEnv } from './snowflake-helpers.js';
import { warehouseContract } from './warehouse-contract.js';

const logger = createLogger({ service: 'sink', level: 'silent' });
const { dir, cleanup } = tempDir();
const servers: SnowflakeTestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(cleanup);
let files = 0;

warehouseContract('Snowflake (real driver, test server)', () => ({
  async open(options) {
    const server = await startSnowflakeTestServer({ port: 0, databasePath: join(dir, `sf-${files++}.duckdb`), users: SF_USERS });
    servers.push(server);
    if (options?.strictNews2) {
      const a = await analyst(server.url);
      await a.query(MIGRATIONS[0]!.statements('snowflake')[0]!.replace('news2 NUMBER(10,0)', 'news2 NUMBER(1,0)'));
      await a.close();
    }
    const config = loadConfig({ ...snowflakeEnv(server.url), SNOWFLAKE_TIMEOUT_MS: '10000' });
    const warehouse = createWarehouse(config, logger, dir);
    await warehouse.init();
    return {
      warehouse,
      another: async () => {
        const other = createWarehouse(config, logger, dir);
        await other.init();
        return other;
      },
      outage: () => server.stop(),
      holdNextCommit: () => server.holdNext(/^\s*COMMIT\b/i),
    };
  },
  jsonNumber: (column, key) => `${column}:${key}::FLOAT`,
  jsonFirstText: (column, key) => `${column}[0]:${key}::STRING`,
}));
