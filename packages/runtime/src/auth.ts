// Who may use a door that takes or shows patient data: bearer tokens from configuration,
// each with scopes (ingest, read, admin), several per scope so they can be rotated.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from './config.js';
import { isLoopbackHost } from './hosts.js';
import type { Logger } from './logger.js';
import { sendProblem } from './reply-error.js';

export type Scope = 'ingest' | 'read' | 'admin';

export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** At least 32 printable characters, no comma or space: long enough that guessing is hopeless. */
const TOKEN = '[\\x21-\\x2B\\x2D-\\x7E]{32,}';
const tokenList = (scope: Scope, what: string) =>
  Type.Optional(
    Type.String({
      pattern: `^\\s*${TOKEN}\\s*(,\\s*${TOKEN}\\s*)*$`,
      rule: 'comma-separated tokens of at least 32 printable characters each (no spaces or commas inside)',
      secret: true,
      description: `bearer tokens with the ${scope} scope: ${what}; several for rotation; never logged`,
    }),
  );

/** The variables of a service with doors (producer, scoring, alerting, dashboard). */
export const AuthEnv = Type.Object({
  AUTH_INGEST_TOKENS: tokenList('ingest', 'write events (producer POST /events, /fhir)'),
  AUTH_READ_TOKENS: tokenList('read', 'see patient data (dashboard page, /events, /api/*; scoring POST /score; alerting /alerts and its acknowledge and dismiss)'),
  AUTH_ADMIN_TOKENS: tokenList('admin', 'every scope, and admin doors (scoring POST /model/reload)'),
  ALLOW_INSECURE: Type.Boolean({
    default: false,
    description: 'run the doors without tokens on a HOST that is not loopback (refused otherwise); never with patient data',
  }),
});
export type AuthConfig = Static<typeof AuthEnv>;

const VARIABLE: Readonly<Record<Scope, keyof AuthConfig>> = { ingest: 'AUTH_INGEST_TOKENS', read: 'AUTH_READ_TOKENS', admin: 'AUTH_ADMIN_TOKENS' };

export interface Credential {
  /** A short public name of the token (a hash prefix): sessions say which token issued them. */
  id: string;
  scopes: ReadonlySet<Scope>;
}

interface Entry extends Credential {
  digest: Buffer;
  secret: Buffer;
}

export interface AuthOptions {
  service: string;
  /** Interface the service binds to: loopback may run open. */
  host: string;
  logger: Logger;
  /** The scopes this service's doors ask for (startup messages name their variables). */
  doors: readonly Scope[];
  /** Admin tokens from an older variable (scoring's SCORING_ADMIN_TOKEN); they do not switch authentication on. */
  extraAdminTokens?: readonly (string | undefined)[];
  /** The variables that open admin doors, for the 403 while none is set (default AUTH_ADMIN_TOKENS). */
  adminVariables?: readonly string[];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * Checks bearer tokens in constant time (every configured token is compared, through
 * fixed-length digests, whatever the outcome). With no AUTH_* token at all it runs open:
 * allowed on loopback (and said so in the log), refused at startup on any other address
 * unless ALLOW_INSECURE=true. Admin doors are never open.
 */
export class Authenticator {
  private readonly entries: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  readonly open: boolean;
  readonly realm: string;

  constructor(config: AuthConfig, private readonly options: AuthOptions) {
    this.realm = options.service;
    const add = (token: string, scope: Scope) => {
      const digest = sha256(token);
      const id = digest.subarray(0, 8).toString('hex');
      const existing = this.byId.get(id);
      if (existing) {
        (existing.scopes as Set<Scope>).add(scope);
        return;
      }
      const entry: Entry = { id, digest, secret: Buffer.from(token), scopes: new Set([scope]) };
      this.entries.push(entry);
      this.byId.set(id, entry);
    };
    for (const scope of SCOPES) for (const token of splitTokens(config[VARIABLE[scope]] as string | undefined)) add(token, scope);
    this.open = this.entries.length === 0;
    for (const token of options.extraAdminTokens ?? []) if (token) add(token, 'admin');

    const { service, host, logger, doors } = options;
    const variables = [...new Set(doors.filter((d) => d !== 'admin').map((d) => VARIABLE[d]))];
    if (this.open && !isLoopbackHost(host)) {
      if (!config.ALLOW_INSECURE) {
        const message = `is required: HOST=${host} is not a loopback address, so ${service} will not run its doors without tokens (set ${[...variables, 'AUTH_ADMIN_TOKENS'].join(' or ')}, or ALLOW_INSECURE=true to run open anyway)`;
        throw new ConfigError(`invalid configuration for ${service}:\n  ${variables[0] ?? 'AUTH_ADMIN_TOKENS'}: ${message}`, [
          { variable: variables[0] ?? 'AUTH_ADMIN_TOKENS', message },
        ]);
      }
      logger.warn({ host, doors }, `ALLOW_INSECURE=true: ${service} runs its doors open on ${host}, without tokens; anyone who reaches it can use them`);
    } else if (this.open && doors.some((d) => d !== 'admin')) {
      logger.warn({ host, doors }, `${service} runs open on loopback (no ${variables.join('/')} set): any local process can use its ${doors.filter((d) => d !== 'admin').join('/')} doors`);
    } else if (!this.open) {
      for (const scope of doors) {
        if (!this.entries.some((e) => e.scopes.has(scope) || e.scopes.has('admin'))) {
          const set = scope === 'admin' ? (options.adminVariables ?? ['AUTH_ADMIN_TOKENS']).join(' or ') : `${VARIABLE[scope]} or AUTH_ADMIN_TOKENS`;
          logger.warn({ scope }, `no token opens the ${scope} doors of ${service}: set ${set}`);
        }
      }
    }
  }

  /** The credential of a token, or null. Admin tokens carry every scope. */
  verify(token: string): Credential | null {
    const digest = sha256(token);
    let found: Entry | null = null;
    for (const entry of this.entries) {
      // No early exit: every comparison runs, so timing says nothing about which token matched.
      if (timingSafeEqual(entry.digest, digest) && found === null) found = entry;
    }
    return found ? { id: found.id, scopes: found.scopes } : null;
  }

  /** True when a credential (or open mode, for non-admin scopes) may use a door of `scope`. */
  allows(credential: Credential | null, scope: Scope): boolean {
    if (credential) return credential.scopes.has(scope) || credential.scopes.has('admin');
    return this.open && scope !== 'admin';
  }

  /**
   * The token behind a credential, so that a service can act at another service as the
   * person who signed in (the dashboard forwarding a clinician's acknowledgement to the
   * alerting service with that clinician's own scope). Never log it.
   */
  tokenOf(credential: Credential): string | null {
    return this.byId.get(credential.id)?.secret.toString() ?? null;
  }

  /** The bearer token of an Authorization header ('' when there is none). */
  static bearer(header: string | undefined): string {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1] ?? '';
  }

  /**
   * A value bound to the token that issued it (an HMAC keyed by that token): it stops
   * verifying as soon as the token is removed from configuration. For session cookies.
   */
  seal(credential: Credential, data: string): string {
    const entry = this.byId.get(credential.id);
    if (!entry) throw new Error('seal: unknown credential');
    const body = `${entry.id}.${b64url(data)}`;
    return `${body}.${b64url(createHmac('sha256', entry.secret).update(body).digest())}`;
  }

  /** What `seal` sealed, with the credential, or null when forged, altered or its token is gone. */
  unseal(value: string): { credential: Credential; data: string } | null {
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [id = '', data = '', mac = ''] = parts;
    const entry = this.byId.get(id);
    if (!entry) return null;
    const expected = createHmac('sha256', entry.secret).update(`${id}.${data}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { credential: { id: entry.id, scopes: entry.scopes }, data: Buffer.from(data, 'base64url').toString('utf8') };
  }

  /**
   * An onRequest hook for a door: 401 with `WWW-Authenticate` without a valid bearer token,
   * 403 when the token lacks the scope. It runs before the body is read, so a stranger
   * cannot make the service parse anything.
   */
  require(scope: Scope) {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const token = Authenticator.bearer(request.headers.authorization);
      const credential = token ? this.verify(token) : null;
      if (this.allows(credential, scope)) return;
      await this.refuse(reply, scope, token !== '' && credential === null ? 'invalid_token' : credential ? 'insufficient_scope' : null);
    };
  }

  /** Sends the 401/403 a door answers when it is refused (a problem; an OperationOutcome under /fhir). */
  refuse(reply: FastifyReply, scope: Scope, error: 'invalid_token' | 'insufficient_scope' | null): FastifyReply {
    if (scope === 'admin' && this.entries.every((e) => !e.scopes.has('admin'))) {
      const variables = (this.options.adminVariables ?? ['AUTH_ADMIN_TOKENS']).join(' or ');
      return sendProblem(reply, 403, { type: 'door-closed', title: 'This door is closed', detail: `admin doors are closed: set ${variables} to open them`, scope });
    }
    const challenge = `Bearer realm="${this.realm}", scope="${scope}"${error ? `, error="${error}"` : ''}`;
    void reply.header('www-authenticate', challenge);
    if (error === 'insufficient_scope') {
      return sendProblem(reply, 403, { type: 'insufficient-scope', title: 'The token does not have the scope this door needs', detail: `this token does not have the ${scope} scope`, scope });
    }
    return sendProblem(reply, 401, {
      type: error === 'invalid_token' ? 'invalid-token' : 'token-required',
      title: error === 'invalid_token' ? 'The bearer token is not valid' : 'A bearer token is required',
      detail: `a bearer token with the ${scope} scope is required (Authorization: Bearer <token>)`,
      scope,
    });
  }
}

function splitTokens(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
