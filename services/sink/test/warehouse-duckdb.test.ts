// The warehouse contract against the embedded DuckDB warehouse (a file per test).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '@ehr/runtime';
import { afterAll } from 'vitest';
import { DuckDbWarehouse, MIGRATIONS } from '../src/index.js';
import { tempDir } from './helpers.js';
import { warehouseContract } from './warehouse-contract.js';

const logger = createLogger({ service: 'sink', level: 'silent' });
const { dir, cleanup } = tempDir();
afterAll(cleanup);
let files = 0;

warehouseContract('DuckDB', () => ({
  async open(options) {
    const path = join(dir, `w-${files++}.duckdb`);
    if (options?.strictNews2) {
      // The table as a DBA might have made it: news2 a 1-digit number.
      const instance = await DuckDBInstance.create(path);
      const c = await instance.connect();
      await c.run(MIGRATIONS[0]!.statements('duckdb')[0]!.replace('news2 INTEGER', 'news2 DECIMAL(1,0)'));
      c.closeSync();
      instance.closeSync();
    }
    const warehouse = new DuckDbWarehouse({ path, logger });
    await warehouse.init();
    return {
      warehouse,
      // One file, one process: the second writer is the same warehouse (its one connection serializes writes).
      another: async () => warehouse,
      outage: async () => {
        await warehouse.close();
        rmSync(path, { force: true });
      },
    };
  },
  jsonNumber: (column, key) => `CAST(${column}->>'${key}' AS DOUBLE)`,
  jsonFirstText: (column, key) => `${column}->0->>'${key}'`,
}));

