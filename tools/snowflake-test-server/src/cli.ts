#!/usr/bin/env node
// snowflake-test-server --user name:password [--public-key name:key.pem]… [--port 8085]
//   [--db data/sf.duckdb] [--threshold N] [--host 127.0.0.1] [--log-level info]
// The repository's command-line convention (@ehr/cli): --help, one-line errors with the usage, exit 2.
import { readFileSync } from 'node:fs';
import { CommandFailure, createCommand, integer, InvalidArgumentError, main, Option } from '@ehr/cli';
import { pino } from 'pino';
import { startSnowflakeTestServer } from './server.js';

/** `name:rest` pairs; the rest (a password, a path) is never echoed back. */
const pair =
  (what: string) =>
  (raw: string, previous: Map<string, string> | undefined): Map<string, string> => {
    const i = raw.indexOf(':');
    if (i <= 0 || i === raw.length - 1) throw new InvalidArgumentError(`expected name:${what}.`);
    return new Map(previous ?? []).set(raw.slice(0, i), raw.slice(i + 1));
  };

const program = createCommand('snowflake-test-server', "Serves the Snowflake driver's JSON protocol on DuckDB, for the real snowflake-sdk in tests. Only configured users get in.")
  .option('--user <name:password>', 'a user and its password (repeatable)', pair('password'))
  .option('--public-key <name:key.pem>', "a user's RSA public key for key-pair (JWT) logins (repeatable)", pair('key.pem'))
  .option('--port <n>', 'TCP port (0: any free one)', integer({ min: 0, max: 65_535 }), 8085)
  .option('--host <address>', 'interface to listen on', '127.0.0.1')
  .option('--db <path>', 'DuckDB file, or :memory:', ':memory:')
  .option('--threshold <n>', 'array-binding threshold (rows) the server announces', integer({ min: 1 }))
  .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'));

await main(program, async (p) => {
  const o = p.opts<{ user?: Map<string, string>; publicKey?: Map<string, string>; port: number; host: string; db: string; threshold?: number; logLevel: string }>();
  const users = o.user ?? new Map<string, string>();
  const keyFiles = o.publicKey ?? new Map<string, string>();
  if (users.size + keyFiles.size === 0) throw new CommandFailure('at least one --user (or --public-key) is required: the server lets in configured users only', 2);
  const publicKeys = new Map<string, string>();
  for (const [name, path] of keyFiles) {
    try {
      publicKeys.set(name, readFileSync(path, 'utf8'));
    } catch {
      throw new CommandFailure(`--public-key ${name}: cannot read the key file`, 2);
    }
  }

  const logger = pino({ level: o.logLevel, base: { service: 'snowflake-test-server' } });
  const server = await startSnowflakeTestServer({
    port: o.port,
    host: o.host,
    databasePath: o.db,
    ...(users.size > 0 ? { users: Object.fromEntries(users) } : {}),
    ...(publicKeys.size > 0 ? { publicKeys: Object.fromEntries(publicKeys) } : {}),
    ...(o.threshold !== undefined ? { arrayBindingThreshold: o.threshold } : {}),
    logger,
  }).catch((err: unknown) => {
    // e.g. the port is taken or the database file is locked: one line, no stack
    throw new Error(`cannot start: ${err instanceof Error ? err.message.split('\n')[0]! : String(err)}`);
  });
  process.stdout.write(`snowflake-test-server ready: ${server.url} (database ${o.db})\n`);

  // Serves until a signal; then stops and exits.
  await new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      server.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
});
