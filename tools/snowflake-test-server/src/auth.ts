/**
 * Login checks: passwords against the configured users, and key-pair (SNOWFLAKE_JWT)
 * logins of users whose public key the server was given: the JWT's structure, claims,
 * fingerprint and RS256 signature. Nobody else gets in.
 */
import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { ErrorCode, SnowflakeError } from './errors.js';

export interface AuthOptions {
  /** user → password: the users who may log in with a password. */
  users: Record<string, string> | undefined;
  /** user → PEM public key: the users who may log in with SNOWFLAKE_JWT (signature and fingerprint checked). */
  publicKeys: Record<string, string> | undefined;
}

/** A server that would let in anyone is refused at start: at least one user must be configured. */
export function requireUsers(opts: AuthOptions): void {
  const n = Object.keys(opts.users ?? {}).length + Object.keys(opts.publicKeys ?? {}).length;
  if (n === 0) throw new Error('snowflake-test-server needs at least one configured user (users: { name: password } or publicKeys: { name: pem })');
  for (const [user, password] of Object.entries(opts.users ?? {})) {
    if (!user || !password) throw new Error('snowflake-test-server: every configured user needs a non-empty name and password');
  }
}

export interface LoginData {
  ACCOUNT_NAME?: string;
  LOGIN_NAME?: string;
  PASSWORD?: string;
  AUTHENTICATOR?: string;
  TOKEN?: string;
}

const badCredentials = (): SnowflakeError =>
  new SnowflakeError(ErrorCode.INCORRECT_USERNAME_PASSWORD, '08004', 'Incorrect username or password was specified.');

const badJwt = (why: string): SnowflakeError => new SnowflakeError(ErrorCode.JWT_INVALID, '08004', `JWT token is invalid. (${why})`);

function lookup<T>(map: Record<string, T> | undefined, user: string): T | undefined {
  if (!map) return undefined;
  // The login name comes from the client: never a plain-object index (`__proto__`, `toString` …).
  const key = Object.keys(map).find((k) => k.toUpperCase() === user.toUpperCase());
  return key === undefined || !Object.hasOwn(map, key) ? undefined : map[key];
}

/** Compares secrets in constant time (lengths may differ: hash both first). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function b64urlJson(part: string): Record<string, unknown> {
  const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
  return v as Record<string, unknown>;
}

/** Seconds since the epoch; the Node driver writes milliseconds, Snowflake's docs seconds. */
function toSeconds(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return v > 1e11 ? v / 1000 : v;
}

/**
 * Checks a key-pair login token:
 * - three base64url parts; header `alg` is RS256;
 * - `sub` is `<ACCOUNT>.<USER>` and `iss` is `<ACCOUNT>.<USER>.SHA256:<base64 sha-256>` (upper-case account and user);
 * - `iat` not in the future, `exp` not past (60 s leeway), lifetime at most one hour;
 * - a non-empty signature; verified with RS256, and the fingerprint compared, when the
 *   server knows the user's public key.
 */
export function checkJwt(token: string, account: string, user: string, publicKeyPem: string | undefined, now = Date.now() / 1000): void {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw badJwt('not a compact JWS');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = b64urlJson(parts[0]!);
    payload = b64urlJson(parts[1]!);
  } catch {
    throw badJwt('header or payload is not base64url JSON');
  }
  if (header.alg !== 'RS256') throw badJwt('alg must be RS256');
  const sub = `${account.toUpperCase()}.${user.toUpperCase()}`;
  if (payload.sub !== sub) throw badJwt(`sub must be ${sub}`);
  const iss = payload.iss;
  const m = typeof iss === 'string' ? /^(.*)\.SHA256:([A-Za-z0-9+/]{43}=)$/.exec(iss) : null;
  if (!m || m[1] !== sub) throw badJwt(`iss must be ${sub}.SHA256:<public key fingerprint>`);
  const iat = toSeconds(payload.iat);
  const exp = toSeconds(payload.exp);
  if (iat === undefined || exp === undefined) throw badJwt('iat and exp are required');
  if (iat > now + 60) throw badJwt('iat is in the future');
  if (exp < now - 60) throw badJwt('token has expired');
  if (exp - iat > 3600) throw badJwt('lifetime is longer than one hour');
  const signature = Buffer.from(parts[2]!, 'base64url');
  if (signature.length < 128) throw badJwt('signature is missing or too short for RS256');
  if (publicKeyPem !== undefined) {
    const key = createPublicKey(publicKeyPem);
    const fingerprint = createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('base64');
    if (fingerprint !== m[2]) throw badJwt('public key fingerprint does not match the registered key');
    const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]!}.${parts[1]!}`), key, signature);
    if (!ok) throw badJwt('signature does not verify with the registered key');
  }
}

/** Checks a login request; returns the user name as logged in, or throws Snowflake's login errors. */
export function authenticate(data: LoginData, opts: AuthOptions): string {
  const user = data.LOGIN_NAME ?? '';
  const account = data.ACCOUNT_NAME ?? '';
  if (!user) throw badCredentials();
  const authenticator = (data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
  if (authenticator === 'SNOWFLAKE' || authenticator === 'USERNAME_PASSWORD_MFA') {
    const password = data.PASSWORD ?? '';
    const expected = lookup(opts.users, user);
    if (!password || expected === undefined || !sameSecret(expected, password)) throw badCredentials();
    return user;
  }
  if (authenticator === 'SNOWFLAKE_JWT') {
    if (!data.TOKEN) throw badJwt('no token');
    const key = lookup(opts.publicKeys, user);
    if (key === undefined) throw badCredentials();
    checkJwt(data.TOKEN, account, user, key);
    return user;
  }
  throw new SnowflakeError(ErrorCode.INCORRECT_USERNAME_PASSWORD, '08004', `Authenticator ${authenticator} is not supported by snowflake-test-server (use a password or SNOWFLAKE_JWT).`);
}
