/**
 * The HTTP side: the endpoints snowflake-sdk calls, answered the way Snowflake answers
 * them (HTTP 200 with `success: false` for every failure a client should see, so the
 * driver never retries an error forever).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { authenticate, requireUsers, type LoginData } from './auth.js';
import { BodyTooLargeError, DEFAULT_BODY_LIMITS, readJson as readBody, type BodyLimits } from './body.js';
import { openDatabase } from './database.js';
import { ErrorCode, SnowflakeError, fromDuckDbError } from './errors.js';
import { Executor, RESULT_PARAMETERS, type Catalog, type QueryData, type QueryRequest } from './executor.js';
import { silentLogger, type Logger } from './logger.js';
import type { DeclaredKind } from './results.js';
import { SessionRegistry, type Session } from './session.js';

export interface SnowflakeTestServerOptions {
  /** Port to listen on (127.0.0.1); 0 or unset picks a free one. */
  port?: number;
  /** Host to bind; default 127.0.0.1. */
  host?: string;
  /** DuckDB database file; default ':memory:'. */
  databasePath?: string;
  /**
   * CLIENT_STAGE_ARRAY_BINDING_THRESHOLD sent at login: array binds with more than this
   * many values (rows × columns) would make the driver upload them to a stage, which
   * this server does not implement. Default 10,000,000.
   */
  arrayBindingThreshold?: number;
  /**
   * user → password. At least one user is required (here or in `publicKeys`): the
   * server never lets in an unknown user.
   */
  users?: Record<string, string>;
  /** user → PEM public key: the only users who may log in with SNOWFLAKE_JWT (signature-checked). */
  publicKeys?: Record<string, string>;
  /** Largest request body accepted (default 128 MiB, Snowflake's limit); past it: HTTP 413. */
  maxBodyBytes?: number;
  /** Largest size a gzip request body may inflate to (default 512 MiB); past it: HTTP 413. */
  maxInflatedBytes?: number;
  /** Session token validity in seconds (default 3600); after it the driver renews. */
  tokenValiditySeconds?: number;
  /** Master token validity and idle-session lifetime in seconds (default 14400). */
  masterValiditySeconds?: number;
  /**
   * A transaction idle this long that blocks another session's write is rolled back, as
   * Snowflake does after 5 minutes with a detached transaction (default 300).
   */
  blockingIdleAbortSeconds?: number;
  logger?: Logger;
}

export interface SnowflakeTestServerStats {
  url: string;
  sessionsOpen: number;
  sessionsDormant: number;
  sessionsCreated: number;
  sessionsRevived: number;
  sessionsExpired: number;
  tokenRenewals: number;
  logins: number;
  failedLogins: number;
  queries: number;
  failedQueries: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  heartbeats: number;
}

/** A statement held back by `holdNext` until the test releases it. */
export interface HeldStatement {
  /** Resolves when a matching statement arrived and is being held. */
  reached: Promise<void>;
  /** Lets it run. */
  release(): void;
}

export interface SnowflakeTestServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /**
   * Holds the next statement whose SQL matches `pattern` before it runs, until released:
   * tests use it to make two clients' transactions overlap exactly (a writer paused just
   * before its COMMIT), which timing alone cannot do reliably.
   */
  holdNext(pattern: RegExp): HeldStatement;
  stats(): SnowflakeTestServerStats;
}

type Json = Record<string, unknown>;

const ok = (data: unknown, extra: Json = {}): Json => ({ success: true, code: null, message: null, data, ...extra });

function errorBody(err: SnowflakeError, queryId?: string): Json {
  return {
    success: false,
    code: err.code,
    message: err.message,
    headers: null,
    data: { errorCode: err.code, sqlState: err.sqlState, queryId: queryId ?? null, age: 0, internalError: false },
  };
}

function sessionToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /Snowflake\s+Token="([^"]*)"/i.exec(h);
  return m?.[1];
}

class LruResults {
  private readonly map = new Map<string, Promise<Json>>();
  constructor(private readonly max: number) {}
  get(k: string): Promise<Json> | undefined {
    return this.map.get(k);
  }
  set(k: string, v: Promise<Json>): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.max) {
      const first = this.map.keys().next().value;
      if (first === undefined) break;
      this.map.delete(first);
    }
  }
}

export async function startSnowflakeTestServer(opts: SnowflakeTestServerOptions = {}): Promise<SnowflakeTestServer> {
  const logger = opts.logger ?? silentLogger;
  requireUsers({ users: opts.users, publicKeys: opts.publicKeys });
  const databasePath = opts.databasePath ?? ':memory:';
  const limits: BodyLimits = {
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes,
    maxInflatedBytes: opts.maxInflatedBytes ?? DEFAULT_BODY_LIMITS.maxInflatedBytes,
  };
  const readJson = (req: IncomingMessage): Promise<Json> => readBody(req, limits);
  const { instance, system, inMemory } = await openDatabase(databasePath);
  const threshold = opts.arrayBindingThreshold ?? 10_000_000;

  const variantColumns = new Set<string>();
  const declared = new Map<string, DeclaredKind>();
  const catalog: Catalog = {
    variantColumns,
    declared,
    async refresh() {
      const r = await system.runAndReadAll(`SELECT column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal`);
      variantColumns.clear();
      declared.clear();
      const conflicting = new Set<string>();
      for (const [name, type, comment] of r.getRows()) {
        const n = String(name).toUpperCase();
        if (type === 'JSON') variantColumns.add(n);
        const c = typeof comment === 'string' && comment.startsWith('sf:') ? comment.slice(3) : undefined;
        const kind: DeclaredKind | undefined =
          c === 'OBJECT' || c === 'ARRAY' || c === 'VARIANT' ? c : c?.startsWith('TIMESTAMP_TZ') ? 'TIMESTAMP_TZ' : c?.startsWith('TIMESTAMP_LTZ') ? 'TIMESTAMP_LTZ' : undefined;
        if (kind === undefined) continue;
        const prev = declared.get(n);
        if (prev !== undefined && prev !== kind) conflicting.add(n);
        declared.set(n, kind);
      }
      for (const n of conflicting) declared.delete(n);
    },
  };
  await catalog.refresh();

  const counters = { logins: 0, failedLogins: 0, queries: 0, failedQueries: 0, heartbeats: 0 };
  const execStats = { rowsInserted: 0, rowsUpdated: 0, rowsDeleted: 0 };
  const registry = new SessionRegistry(
    instance,
    {
      tokenValiditySeconds: opts.tokenValiditySeconds ?? 3600,
      masterValiditySeconds: opts.masterValiditySeconds ?? 14400,
      registryPath: inMemory ? undefined : `${resolve(databasePath)}.sessions.json`,
    },
    logger,
  );
  const executor = new Executor(catalog, execStats);
  const results = new LruResults(1000);
  const byRequestId = new LruResults(1000);

  const holds: { pattern: RegExp; onReach: () => void; gate: Promise<void> }[] = [];
  const holdNext = (pattern: RegExp): HeldStatement => {
    let onReach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (onReach = r));
    const gate = new Promise<void>((r) => (release = r));
    holds.push({ pattern, onReach, gate });
    return { reached, release };
  };

  const runQuery = async (session: Session, body: QueryRequest, queryIdHint: { id?: string }): Promise<Json> => {
    counters.queries++;
    const held = holds.findIndex((h) => h.pattern.test(body.sqlText));
    if (held >= 0) {
      const [hold] = holds.splice(held, 1);
      hold!.onReach();
      await hold!.gate;
    }
    try {
      const data: QueryData = await session.run(() => executor.execute(session, body));
      queryIdHint.id = data.queryId;
      registry.persist(); // transaction state may have changed
      return ok(data);
    } catch (e) {
      counters.failedQueries++;
      const err = fromDuckDbError(e);
      logger.debug({ code: err.code, sessionId: session.id }, 'statement failed');
      if (err.code === ErrorCode.LOCK_CONFLICT) await registry.abortIdleBlockers(session, (opts.blockingIdleAbortSeconds ?? 300) * 1000);
      if (session.inTransaction) registry.persist();
      return errorBody(err);
    }
  };

  const handle = async (req: IncomingMessage, url: URL): Promise<Json> => {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/session/v1/login-request') {
      const body = await readJson(req);
      const data = (body.data ?? {}) as LoginData & { SESSION_PARAMETERS?: Json };
      try {
        const user = authenticate(data, { users: opts.users, publicKeys: opts.publicKeys });
        const up = (v: string | null): string => (v ? (/^".*"$/.test(v) ? v.slice(1, -1) : v.toUpperCase()) : '');
        const info = {
          user: user.toUpperCase(),
          database: up(url.searchParams.get('databaseName')) || 'SNOWFLAKE_TEST',
          schema: up(url.searchParams.get('schemaName')) || 'PUBLIC',
          warehouse: up(url.searchParams.get('warehouse')) || 'COMPUTE_WH',
          role: up(url.searchParams.get('roleName')) || 'PUBLIC',
        };
        const { session, issued } = await registry.create(info);
        counters.logins++;
        logger.info({ sessionId: session.id, user: info.user }, 'login');
        return ok({
          token: issued.token,
          masterToken: issued.masterToken,
          validityInSeconds: issued.validityInSeconds,
          masterValidityInSeconds: issued.masterValidityInSeconds,
          displayUserName: info.user,
          serverVersion: 'snowflake-test-server',
          firstLogin: false,
          remMeToken: null,
          remMeValidityInSeconds: 0,
          healthCheckInterval: 45,
          newClientForUpgrade: null,
          sessionId: session.id,
          parameters: [
            { name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: threshold },
            { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
            { name: 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', value: 3600 },
            { name: 'QUERY_CONTEXT_CACHE_SIZE', value: 5 },
            { name: 'CLIENT_PREFETCH_THREADS', value: 4 },
            { name: 'CLIENT_RESULT_PREFETCH_THREADS', value: 1 },
            ...RESULT_PARAMETERS,
          ],
          sessionInfo: { databaseName: info.database, schemaName: info.schema, warehouseName: info.warehouse, roleName: info.role },
          idToken: null,
          idTokenValidityInSeconds: 0,
          responseData: null,
          mfaToken: null,
          mfaTokenValidityInSeconds: 0,
        });
      } catch (e) {
        counters.failedLogins++;
        const err = e instanceof SnowflakeError ? e : fromDuckDbError(e);
        logger.info({ code: err.code }, 'login refused');
        return { ...errorBody(err), data: { nextAction: 'RETRY_LOGIN', authnMethod: data.AUTHENTICATOR ?? 'USERNAME_PASSWORD', signInOptions: {}, errorCode: err.code, sqlState: err.sqlState } };
      }
    }
    if (req.method === 'POST' && path === '/session/token-request') {
      const body = await readJson(req);
      const renewed = await registry.renew(sessionToken(req), typeof body.oldSessionToken === 'string' ? body.oldSessionToken : undefined);
      return ok({
        sessionToken: renewed.issued.token,
        validityInSecondsST: renewed.issued.validityInSeconds,
        masterToken: renewed.issued.masterToken,
        validityInSecondsMT: renewed.issued.masterValidityInSeconds,
        sessionId: renewed.sessionId,
      });
    }
    if (req.method === 'POST' && path === '/telemetry/send') {
      await readJson(req).catch(() => undefined);
      return ok(null);
    }
    if (req.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      const token = sessionToken(req);
      if (registry.dropDormant(token)) return ok(null);
      const session = registry.lookup(token);
      await registry.close(session);
      logger.info({ sessionId: session.id }, 'session closed');
      return ok(null);
    }
    if (req.method === 'POST' && path === '/session/heartbeat') {
      registry.lookup(sessionToken(req));
      counters.heartbeats++;
      return ok(null);
    }
    if (req.method === 'POST' && path === '/queries/v1/query-request') {
      const session = registry.lookup(sessionToken(req));
      const body = (await readJson(req)) as unknown as QueryRequest & { asyncExec?: boolean; describeOnly?: boolean };
      if (typeof body.sqlText !== 'string') throw new SnowflakeError(ErrorCode.EMPTY_SQL, '42000', 'SQL compilation error:\nEmpty SQL statement.');
      if (body.describeOnly) throw new SnowflakeError(ErrorCode.UNSUPPORTED_FEATURE, '0A000', "Unsupported feature 'describeOnly'.");
      const requestId = url.searchParams.get('requestId');
      // A retried request (same requestId) gets the first attempt's answer, not a second execution.
      const dedupKey = requestId ? `${session.id}:${requestId}` : undefined;
      const earlier = dedupKey ? byRequestId.get(dedupKey) : undefined;
      if (earlier) return earlier;
      const hint: { id?: string } = {};
      const p = runQuery(session, body, hint).then((r) => {
        const qid = (r.data as { queryId?: string } | null)?.queryId;
        if (qid) results.set(qid, Promise.resolve(r));
        return r;
      });
      if (dedupKey) byRequestId.set(dedupKey, p);
      if (body.asyncExec) {
        const queryId = randomUUID();
        results.set(queryId, p);
        return { success: true, code: '333334', message: 'Asynchronous execution in progress.', data: { queryId, getResultUrl: `/queries/${queryId}/result` } };
      }
      return p;
    }
    const m = /^\/queries\/([^/]+)\/result$/.exec(path);
    if (req.method === 'GET' && m) {
      registry.lookup(sessionToken(req));
      const id = decodeURIComponent(m[1]!);
      const r = results.get(id);
      if (!r) throw new SnowflakeError(ErrorCode.STATEMENT_NOT_FOUND, '02000', `Statement ${id} not found`);
      return r;
    }
    if (req.method === 'POST' && (/^\/queries\/[^/]+\/abort-request$/.test(path) || path === '/queries/v1/abort-request')) {
      registry.lookup(sessionToken(req));
      return ok(null);
    }
    throw new SnowflakeError('000001', '0A000', `snowflake-test-server does not implement ${req.method ?? ''} ${path}`);
  };

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer((req, res: ServerResponse) => {
    inFlight++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: Json): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    handle(req, url)
      .then((body) => send(200, body))
      .catch((e: unknown) => {
        if (e instanceof BodyTooLargeError) {
          // Not retried by the driver (it retries 5xx, 408 and 429 only); the rest of the body is not read.
          res.setHeader('connection', 'close');
          send(413, { success: false, code: '000413', message: e.message, data: null });
          return;
        }
        if (e instanceof SyntaxError) {
          send(400, { success: false, code: '000400', message: 'request body is not JSON', data: null });
          return;
        }
        const err = e instanceof SnowflakeError ? e : fromDuckDbError(e);
        logger.debug({ code: err.code, path: url.pathname }, 'request failed');
        send(200, errorBody(err));
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0 && drained) drained();
      });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  logger.info({ url, databasePath }, 'snowflake-test-server listening');

  const reaper = setInterval(() => {
    registry.expireIdle().catch((err: unknown) => logger.warn({ err }, 'session reaper failed'));
  }, 30_000);
  reaper.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(reaper);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Let requests already running finish (and answer) before the database goes away.
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, 10_000))]);
      }
      server.closeAllConnections();
      await closed;
      await registry.shutdown();
      system.closeSync();
      instance.closeSync();
      logger.info({ url }, 'snowflake-test-server stopped');
    })();
    return stopping;
  };

  return {
    url,
    port,
    stop,
    holdNext,
    stats: () => ({
      url,
      sessionsOpen: registry.openCount,
      sessionsDormant: registry.dormantCount,
      sessionsCreated: registry.created,
      sessionsRevived: registry.revived,
      sessionsExpired: registry.expired,
      tokenRenewals: registry.renewals,
      ...counters,
      ...execStats,
    }),
  };
}
