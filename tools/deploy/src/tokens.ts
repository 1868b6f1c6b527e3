// Bearer tokens for the doors that take or show patient data, for the two ways this
// package runs the services: `npm run stack` (fresh tokens per run, in a 0600 file) and
// Docker Compose (kept in the project's .env, which compose reads and git ignores).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import type { ServiceName } from './services.js';

/** The names the tokens go by outside the services (compose's .env, the stack's token file, the produce CLI). */
export const TOKEN_VARIABLES = ['EHR_INGEST_TOKEN', 'EHR_READ_TOKEN', 'EHR_ADMIN_TOKEN'] as const;
export type TokenVariable = (typeof TOKEN_VARIABLES)[number];
export type Tokens = Record<TokenVariable, string>;

/** What each service with doors is given: its doors' scope and admin, nothing more. */
const SERVICE_TOKENS: Partial<Record<ServiceName, Partial<Record<'AUTH_INGEST_TOKENS' | 'AUTH_READ_TOKENS' | 'AUTH_ADMIN_TOKENS', TokenVariable>>>> = {
  producer: { AUTH_INGEST_TOKENS: 'EHR_INGEST_TOKEN', AUTH_ADMIN_TOKENS: 'EHR_ADMIN_TOKEN' },
  scoring: { AUTH_READ_TOKENS: 'EHR_READ_TOKEN', AUTH_ADMIN_TOKENS: 'EHR_ADMIN_TOKEN' },
  alerting: { AUTH_READ_TOKENS: 'EHR_READ_TOKEN', AUTH_ADMIN_TOKENS: 'EHR_ADMIN_TOKEN' },
  dashboard: { AUTH_READ_TOKENS: 'EHR_READ_TOKEN', AUTH_ADMIN_TOKENS: 'EHR_ADMIN_TOKEN' },
};

/** 32 random bytes, base64url: 43 characters, inside the services' token rule. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export function generateTokens(): Tokens {
  return { EHR_INGEST_TOKEN: newToken(), EHR_READ_TOKEN: newToken(), EHR_ADMIN_TOKEN: newToken() };
}

/** The AUTH_* variables one service gets (none for a service without doors). */
export function serviceTokenEnv(service: ServiceName, tokens: Tokens): Record<string, string> {
  const wanted = SERVICE_TOKENS[service] ?? {};
  return Object.fromEntries(Object.entries(wanted).map(([variable, token]) => [variable, tokens[token]]));
}

/** The services that take tokens, and the token variables each one reads (for the compose checks). */
export function serviceTokenVariables(): Partial<Record<ServiceName, Record<string, TokenVariable>>> {
  return SERVICE_TOKENS;
}

/** `KEY=value` lines for a file only its owner can read. */
export function writeTokenFile(path: string, tokens: Tokens): void {
  writeFileSync(path, TOKEN_VARIABLES.map((v) => `${v}=${tokens[v]}\n`).join(''), { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Makes sure the compose project's .env holds the three tokens: missing ones are generated
 * and appended, existing ones (and every other line) are kept, so running it again changes
 * nothing. The file is left readable by its owner only. Returns which were added.
 */
export function ensureComposeTokens(envFile: string): { added: TokenVariable[]; tokens: Tokens } {
  const text = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
  const present = new Map(Object.entries(parseEnv(text)));
  const added = TOKEN_VARIABLES.filter((v) => !present.get(v));
  const tokens = Object.fromEntries(TOKEN_VARIABLES.map((v) => [v, present.get(v) || newToken()])) as Tokens;
  if (added.length > 0) {
    const lead = text === '' || text.endsWith('\n') ? '' : '\n';
    const block = `${lead}# Bearer tokens of the pipeline's doors (npm run compose:tokens); keep this file private.\n${added.map((v) => `${v}=${tokens[v]}\n`).join('')}`;
    writeFileSync(envFile, text + block, { mode: 0o600 });
  }
  chmodSync(envFile, 0o600);
  return { added, tokens };
}

/**
 * `npm run stack`: fresh tokens for this run, written to `<dir>/stack-tokens.env` (mode 600)
 * and handed to each service with doors; null when the environment brings its own AUTH_*.
 */
export function prepareStackTokens(
  services: readonly ServiceName[],
  env: Readonly<Record<string, string | undefined>>,
  dir: string,
): { file: string; serviceEnv: Partial<Record<ServiceName, Record<string, string>>> } | null {
  if (['AUTH_INGEST_TOKENS', 'AUTH_READ_TOKENS', 'AUTH_ADMIN_TOKENS'].some((v) => env[v])) return null;
  const tokens = generateTokens();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'stack-tokens.env');
  writeTokenFile(file, tokens);
  return { file, serviceEnv: Object.fromEntries(services.map((s) => [s, serviceTokenEnv(s, tokens)])) };
}
