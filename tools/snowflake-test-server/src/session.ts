/**
 * Sessions: one DuckDB connection each (so BEGIN/COMMIT/ROLLBACK are per session),
 * session and master tokens, renewal, expiry, and the small registry file that lets
 * sessions outlive a server restart on the same database file.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ErrorCode, SnowflakeError } from './errors.js';
import type { Logger } from './logger.js';
import { SESSION_MACROS } from './sql/translate.js';

export interface SessionInfo {
  user: string;
  database: string;
  schema: string;
  warehouse: string;
  role: string;
}

interface TokenState {
  sessionTokenHash: string;
  masterTokenHash: string;
  sessionExpiresAt: number;
  masterExpiresAt: number;
}

export class Session {
  inTransaction = false;
  lastUsedAt = Date.now();
  /** Set when the server rolled back this session's transaction on its own (see abortIdleBlockers); the next COMMIT says so. */
  abortedTransaction: string | null = null;
  /** Statements running or queued. */
  private active = 0;
  /** Bind types DuckDB inferred per statement text (array binds), so a repeated batch is not prepared twice. */
  readonly inferredTypes = new Map<string, (string | undefined)[]>();
  /** Statements of one session run one at a time, like a Snowflake session. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: number,
    public info: SessionInfo,
    readonly conn: DuckDBConnection,
    public tokens: TokenState,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.active++;
    const next = this.chain.then(fn, fn).finally(() => {
      this.active--;
      this.lastUsedAt = Date.now();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** A statement is running or queued. */
  get busy(): boolean {
    return this.active > 0;
  }

  /** Waits for the statements already queued. */
  idle(): Promise<unknown> {
    return this.chain;
  }
}

interface DormantSession extends TokenState {
  id: number;
  info: SessionInfo;
  inTransaction: boolean;
}

interface RegistryFile {
  version: 1;
  sessions: DormantSession[];
}

export interface IssuedTokens {
  token: string;
  masterToken: string;
  validityInSeconds: number;
  masterValidityInSeconds: number;
}

const hash = (t: string): string => createHash('sha256').update(t).digest('hex');
const newToken = (kind: 's' | 'm'): string => `sfts-${kind}-${randomBytes(24).toString('base64url')}`;

export interface SessionOptions {
  tokenValiditySeconds: number;
  masterValiditySeconds: number;
  /** Registry file, or undefined for an in-memory database (nothing survives a restart). */
  registryPath: string | undefined;
}

export type Lookup = { session: Session } | { dormant: true } | undefined;

export class SessionRegistry {
  private readonly live = new Map<number, Session>();
  private readonly bySessionToken = new Map<string, Session>();
  private readonly byMasterToken = new Map<string, Session>();
  private readonly dormant = new Map<number, DormantSession>();
  private setupLock: Promise<unknown> = Promise.resolve();
  created = 0;
  revived = 0;
  renewals = 0;
  expired = 0;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly opts: SessionOptions,
    private readonly logger: Logger,
  ) {
    if (opts.registryPath) this.load(opts.registryPath);
  }

  get openCount(): number {
    return this.live.size;
  }

  get dormantCount(): number {
    return this.dormant.size;
  }

  sessions(): Session[] {
    return [...this.live.values()];
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    try {
      const file = JSON.parse(text) as RegistryFile;
      const now = Date.now();
      for (const s of file.sessions ?? []) {
        if (s.masterExpiresAt > now) this.dormant.set(s.id, s);
      }
      this.logger.info({ dormant: this.dormant.size }, 'sessions from before the restart can be renewed');
    } catch (err) {
      this.logger.warn({ err }, 'ignoring an unreadable session registry');
    }
  }

  /** Writes the registry file (sessions, token hashes, whether each is in a transaction). */
  persist(): void {
    const path = this.opts.registryPath;
    if (!path) return;
    const sessions: DormantSession[] = [...this.dormant.values()];
    for (const s of this.live.values()) sessions.push({ id: s.id, info: s.info, inTransaction: s.inTransaction, ...s.tokens });
    const body: RegistryFile = { version: 1, sessions };
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, path);
  }

  private issue(): { tokens: TokenState; issued: IssuedTokens } {
    const token = newToken('s');
    const masterToken = newToken('m');
    const now = Date.now();
    return {
      tokens: {
        sessionTokenHash: hash(token),
        masterTokenHash: hash(masterToken),
        sessionExpiresAt: now + this.opts.tokenValiditySeconds * 1000,
        masterExpiresAt: now + this.opts.masterValiditySeconds * 1000,
      },
      issued: { token, masterToken, validityInSeconds: this.opts.tokenValiditySeconds, masterValidityInSeconds: this.opts.masterValiditySeconds },
    };
  }

  private async openConnection(info: SessionInfo): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    try {
      for (const m of SESSION_MACROS) await conn.run(m);
      // Creating the schema touches the shared catalog: one session at a time.
      const setup = this.setupLock.then(() => conn.run(`CREATE SCHEMA IF NOT EXISTS "${info.schema.replace(/"/g, '""')}"`));
      this.setupLock = setup.catch(() => undefined);
      await setup;
      await conn.run(`SET schema = '${info.schema.replace(/'/g, "''")}'`);
    } catch (err) {
      conn.closeSync();
      throw err;
    }
    return conn;
  }

  private register(s: Session): void {
    this.live.set(s.id, s);
    this.bySessionToken.set(s.tokens.sessionTokenHash, s);
    this.byMasterToken.set(s.tokens.masterTokenHash, s);
  }

  private unregister(s: Session): void {
    this.live.delete(s.id);
    this.bySessionToken.delete(s.tokens.sessionTokenHash);
    this.byMasterToken.delete(s.tokens.masterTokenHash);
  }

  async create(info: SessionInfo): Promise<{ session: Session; issued: IssuedTokens }> {
    const conn = await this.openConnection(info);
    const { tokens, issued } = this.issue();
    let id = randomInt(1, 2 ** 47);
    while (this.live.has(id) || this.dormant.has(id)) id = randomInt(1, 2 ** 47);
    const session = new Session(id, info, conn, tokens);
    this.register(session);
    this.created++;
    this.persist();
    return { session, issued };
  }

  /** Finds the session a session token belongs to; throws Snowflake's token errors. */
  lookup(token: string | undefined): Session {
    if (!token) throw new SnowflakeError(ErrorCode.SESSION_TOKEN_INVALID, '08001', 'Invalid session token: none was sent.');
    const h = hash(token);
    const s = this.bySessionToken.get(h);
    if (s) {
      if (Date.now() > s.tokens.sessionExpiresAt) throw new SnowflakeError(ErrorCode.SESSION_TOKEN_EXPIRED, '08001', 'Session token has expired. Please login again.');
      s.lastUsedAt = Date.now();
      return s;
    }
    for (const d of this.dormant.values()) {
      if (d.sessionTokenHash === h) {
        // The server restarted since this token was issued: have the driver renew it.
        throw new SnowflakeError(ErrorCode.SESSION_TOKEN_EXPIRED, '08001', 'Session token has expired (the server restarted). Renew it with the master token.');
      }
    }
    throw new SnowflakeError(ErrorCode.SESSION_TOKEN_INVALID, '08001', 'Invalid session token. The session does not exist (deleted, expired, or issued by a server that has since restarted on another database).');
  }

  /** POST /session/token-request: a new session token for the master token's session. */
  async renew(masterToken: string | undefined, oldSessionToken: string | undefined): Promise<{ sessionId: number; issued: IssuedTokens }> {
    if (!masterToken) throw new SnowflakeError(ErrorCode.MASTER_TOKEN_INVALID, '08001', 'Invalid master token.');
    const h = hash(masterToken);
    const live = this.byMasterToken.get(h);
    if (live) {
      if (Date.now() > live.tokens.masterExpiresAt) throw new SnowflakeError(ErrorCode.MASTER_TOKEN_EXPIRED, '08001', 'Master token has expired. Please login again.');
      if (oldSessionToken !== undefined && hash(oldSessionToken) !== live.tokens.sessionTokenHash) {
        throw new SnowflakeError(ErrorCode.SESSION_TOKEN_INVALID, '08001', 'The old session token does not belong to this master token.');
      }
      this.unregister(live);
      const { tokens, issued } = this.issue();
      live.tokens = tokens;
      this.register(live);
      this.renewals++;
      this.persist();
      return { sessionId: live.id, issued };
    }
    for (const d of this.dormant.values()) {
      if (d.masterTokenHash !== h) continue;
      this.dormant.delete(d.id);
      if (d.inTransaction || Date.now() > d.masterExpiresAt) {
        this.persist();
        throw new SnowflakeError(
          ErrorCode.MASTER_TOKEN_EXPIRED,
          '08001',
          d.inTransaction
            ? 'Session ended: the server restarted while this session had an open transaction, which was rolled back. Log in again and retry the transaction.'
            : 'Master token has expired. Please login again.',
        );
      }
      const conn = await this.openConnection(d.info);
      const { tokens, issued } = this.issue();
      const s = new Session(d.id, d.info, conn, tokens);
      this.register(s);
      this.revived++;
      this.renewals++;
      this.persist();
      this.logger.info({ sessionId: d.id }, 'session renewed after a server restart');
      return { sessionId: d.id, issued };
    }
    throw new SnowflakeError(ErrorCode.MASTER_TOKEN_INVALID, '08001', 'Invalid master token.');
  }

  /** Forgets a dormant session whose token is presented (POST /session?delete=true after a restart). */
  dropDormant(token: string | undefined): boolean {
    if (!token) return false;
    const h = hash(token);
    for (const d of this.dormant.values()) {
      if (d.sessionTokenHash === h) {
        this.dormant.delete(d.id);
        this.persist();
        return true;
      }
    }
    return false;
  }

  /** Ends a session: rolls back an open transaction and closes its connection. */
  async close(s: Session, opts: { keepForRestart?: boolean } = {}): Promise<void> {
    this.unregister(s);
    await s.idle();
    if (s.inTransaction) {
      try {
        await s.conn.run('ROLLBACK');
      } catch {
        // the connection is going away; DuckDB rolls back on close anyway
      }
    }
    s.conn.closeSync();
    if (opts.keepForRestart) this.dormant.set(s.id, { id: s.id, info: s.info, inTransaction: s.inTransaction, ...s.tokens });
    this.persist();
  }

  /**
   * Snowflake aborts a transaction that blocks another one from a lock and has been idle
   * for 5 minutes (typically a client that died inside it: a "detached" transaction).
   * Called when a statement of `blocked` met a lock conflict: every other session in a
   * transaction, with nothing running and idle for at least `idleMs`, is rolled back.
   */
  async abortIdleBlockers(blocked: Session, idleMs: number, now = Date.now()): Promise<number> {
    let aborted = 0;
    for (const s of this.live.values()) {
      if (s === blocked || !s.inTransaction || s.busy || now - s.lastUsedAt < idleMs) continue;
      await s.run(async () => {
        if (!s.inTransaction) return;
        s.inTransaction = false;
        s.abortedTransaction = `Transaction was aborted: it was idle for more than ${Math.round(idleMs / 1000)} s while blocking another transaction.`;
        await s.conn.run('ROLLBACK').catch(() => undefined);
      });
      aborted++;
      this.logger.info({ sessionId: s.id }, 'rolled back an idle transaction that blocked another session');
    }
    if (aborted > 0) this.persist();
    return aborted;
  }

  /** Ends sessions unused for longer than the master token validity. */
  async expireIdle(now = Date.now()): Promise<void> {
    const limit = this.opts.masterValiditySeconds * 1000;
    for (const s of [...this.live.values()]) {
      if (now - s.lastUsedAt > limit) {
        this.expired++;
        this.logger.info({ sessionId: s.id }, 'session expired; rolling back');
        await this.close(s);
      }
    }
    let changed = false;
    for (const d of [...this.dormant.values()]) {
      if (d.masterExpiresAt < now) {
        this.dormant.delete(d.id);
        changed = true;
      }
    }
    if (changed) this.persist();
  }

  /** Server shutdown: every live session becomes dormant (renewable after a restart). */
  async shutdown(): Promise<void> {
    for (const s of [...this.live.values()]) await this.close(s, { keepForRestart: true });
    this.persist();
  }

  static removeRegistry(path: string): void {
    rmSync(path, { force: true });
  }
}
