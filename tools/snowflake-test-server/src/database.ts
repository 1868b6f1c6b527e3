/**
 * The DuckDB instance behind the server, sealed: whatever SQL gets past the translator,
 * DuckDB itself can read or write no file but its own database and reach no network.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface Database {
  instance: DuckDBInstance;
  /** The server's own connection (catalog reads); sessions open their own. */
  system: DuckDBConnection;
  inMemory: boolean;
}

export async function openDatabase(databasePath: string): Promise<Database> {
  const inMemory = databasePath === ':memory:' || databasePath === '';
  if (!inMemory) mkdirSync(dirname(resolve(databasePath)), { recursive: true });
  const instance = await DuckDBInstance.create(inMemory ? ':memory:' : databasePath);
  const system = await instance.connect();
  try {
    // Order matters: the time zone needs the (built-in) ICU extension, which cannot be
    // loaded once external access is off; after the lock no setting can be changed back.
    await system.run(`SET GLOBAL TimeZone = 'UTC'`);
    await system.run('SET GLOBAL enable_external_access = false');
    await system.run('SET GLOBAL lock_configuration = true');
  } catch (err) {
    system.closeSync();
    instance.closeSync();
    throw err;
  }
  return { instance, system, inMemory };
}
