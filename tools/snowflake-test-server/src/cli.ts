#!/usr/bin/env node
/**
 * snowflake-test-server --port 8085 --db data/sf.duckdb [--user name:password]…
 *   [--threshold N] [--host 127.0.0.1] [--log-level info]
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startSnowflakeTestServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8085' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: ':memory:' },
    user: { type: 'string', multiple: true },
    threshold: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: snowflake-test-server [--port 8085] [--host 127.0.0.1] [--db path.duckdb|:memory:] [--user name:password]... [--threshold N] [--log-level info]\n',
  );
  process.exit(0);
}

const logger = pino({ level: values['log-level'], base: { service: 'snowflake-test-server' } });
let users: Record<string, string> | undefined;
for (const u of values.user ?? []) {
  const i = u.indexOf(':');
  if (i <= 0) {
    logger.error(`--user must be name:password, got ${u.slice(0, i > 0 ? i : u.length)}…`);
    process.exit(2);
  }
  users ??= {};
  users[u.slice(0, i)] = u.slice(i + 1);
}

const server = await startSnowflakeTestServer({
  port: Number(values.port),
  host: values.host,
  databasePath: values.db,
  ...(users ? { users } : {}),
  ...(values.threshold ? { arrayBindingThreshold: Number(values.threshold) } : {}),
  logger,
});
process.stdout.write(`snowflake-test-server ready: ${server.url} (database ${values.db})\n`);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  server.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
