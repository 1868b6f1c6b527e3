#!/usr/bin/env node
/**
 * snowflake-test-server --user name:password [--public-key name:key.pem]… [--port 8085]
 *   [--db data/sf.duckdb] [--threshold N] [--host 127.0.0.1] [--log-level info]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startSnowflakeTestServer } from './server.js';

const USAGE =
  'usage: snowflake-test-server --user name:password [--user …] [--public-key name:key.pem]… [--port 8085] [--host 127.0.0.1] ' +
  '[--db path.duckdb|:memory:] [--threshold N] [--log-level info]\n';

/** A wrong command line gets one line saying what is wrong, the usage, and exit code 2: never a stack. */
function usageError(message: string): never {
  process.stderr.write(`snowflake-test-server: ${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '8085' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string', default: ':memory:' },
      user: { type: 'string', multiple: true },
      'public-key': { type: 'string', multiple: true },
      threshold: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  usageError(err instanceof Error ? err.message.split('\n')[0]! : String(err));
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`--port must be a port number, got ${values.port}`);
const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1)) usageError(`--threshold must be a positive integer, got ${values.threshold}`);
const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
if (!levels.includes(values['log-level'])) usageError(`--log-level must be one of ${levels.join(', ')}`);

/** `name:rest` pairs; the rest (a password, a path) is never echoed back. */
function pairs(flag: string, list: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list ?? []) {
    const i = item.indexOf(':');
    if (i <= 0 || i === item.length - 1) usageError(`--${flag} must be name:${flag === 'user' ? 'password' : 'key.pem'}`);
    out.set(item.slice(0, i), item.slice(i + 1));
  }
  return out;
}
const users = pairs('user', values.user);
const keyFiles = pairs('public-key', values['public-key']);
if (users.size + keyFiles.size === 0) usageError('at least one --user (or --public-key) is required: the server lets in configured users only');
const publicKeys = new Map<string, string>();
for (const [name, path] of keyFiles) {
  try {
    publicKeys.set(name, readFileSync(path, 'utf8'));
  } catch {
    usageError(`--public-key ${name}: cannot read the key file`);
  }
}

const logger = pino({ level: values['log-level'], base: { service: 'snowflake-test-server' } });
const server = await startSnowflakeTestServer({
  port,
  host: values.host,
  databasePath: values.db,
  ...(users.size > 0 ? { users: Object.fromEntries(users) } : {}),
  ...(publicKeys.size > 0 ? { publicKeys: Object.fromEntries(publicKeys) } : {}),
  ...(threshold !== undefined ? { arrayBindingThreshold: threshold } : {}),
  logger,
}).catch((err: unknown) => {
  // e.g. the port is taken or the database file is locked: one line, no stack
  process.stderr.write(`snowflake-test-server: cannot start: ${err instanceof Error ? err.message.split('\n')[0]! : String(err)}\n`);
  process.exit(1);
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
