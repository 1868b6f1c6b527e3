// The tokens `npm run stack` and `npm run compose:tokens` make: long enough for the
// services' rule, given to each service for its own doors only, kept in files only their
// owner can read, and (for compose) generated once and kept.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { AuthEnv, readConfig } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { ensureComposeTokens, generateTokens, prepareStackTokens, serviceTokenEnv, TOKEN_VARIABLES } from '../src/tokens.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'deploy-tokens-'));
const mode = (file: string) => statSync(file).mode & 0o777;

describe('tokens', () => {
  it('are random, distinct and pass the services’ token rule', () => {
    const a = generateTokens();
    const b = generateTokens();
    expect(new Set([...Object.values(a), ...Object.values(b)]).size).toBe(6);
    expect(() => readConfig(AuthEnv, { AUTH_INGEST_TOKENS: a.EHR_INGEST_TOKEN, AUTH_READ_TOKENS: `${a.EHR_READ_TOKEN},${b.EHR_READ_TOKEN}`, AUTH_ADMIN_TOKENS: a.EHR_ADMIN_TOKEN })).not.toThrow();
  });

  it('give each service with doors its scope and admin, and the others nothing', () => {
    const t = generateTokens();
    expect(serviceTokenEnv('producer', t)).toEqual({ AUTH_INGEST_TOKENS: t.EHR_INGEST_TOKEN, AUTH_ADMIN_TOKENS: t.EHR_ADMIN_TOKEN });
    expect(serviceTokenEnv('dashboard', t)).toEqual({ AUTH_READ_TOKENS: t.EHR_READ_TOKEN, AUTH_ADMIN_TOKENS: t.EHR_ADMIN_TOKEN });
    expect(serviceTokenEnv('scoring', t)).toEqual({ AUTH_READ_TOKENS: t.EHR_READ_TOKEN, AUTH_ADMIN_TOKENS: t.EHR_ADMIN_TOKEN });
    expect(serviceTokenEnv('alerting', t)).toEqual({ AUTH_READ_TOKENS: t.EHR_READ_TOKEN, AUTH_ADMIN_TOKENS: t.EHR_ADMIN_TOKEN });
    expect([serviceTokenEnv('feature', t), serviceTokenEnv('sink', t)]).toEqual([{}, {}]);
  });

  it('npm run stack: fresh ones per run in a mode-600 file, unless the environment has AUTH_*', () => {
    const dir = scratch();
    const first = prepareStackTokens(['producer', 'feature', 'dashboard'], {}, dir)!;
    expect(mode(first.file)).toBe(0o600);
    const written = parseEnv(readFileSync(first.file, 'utf8'));
    expect(Object.keys(written).sort()).toEqual([...TOKEN_VARIABLES].sort());
    expect(first.serviceEnv.producer?.AUTH_INGEST_TOKENS).toBe(written.EHR_INGEST_TOKEN);
    expect(first.serviceEnv.dashboard?.AUTH_READ_TOKENS).toBe(written.EHR_READ_TOKEN);
    expect(first.serviceEnv.feature).toEqual({});
    const second = prepareStackTokens(['producer'], {}, dir)!;
    expect(second.serviceEnv.producer?.AUTH_INGEST_TOKENS).not.toBe(first.serviceEnv.producer?.AUTH_INGEST_TOKENS);
    expect(prepareStackTokens(['producer'], { AUTH_INGEST_TOKENS: 'x'.repeat(40) }, dir)).toBeNull();
  });

  it('compose: generated into .env once, kept on the next run, other lines untouched, mode 600', () => {
    const file = join(scratch(), '.env');
    writeFileSync(file, 'LOG_LEVEL=debug\nEHR_READ_TOKEN=kept-read-token-0123456789abcdef0123456', { mode: 0o644 });
    const first = ensureComposeTokens(file);
    expect(first.added).toEqual(['EHR_INGEST_TOKEN', 'EHR_ADMIN_TOKEN']);
    expect(mode(file)).toBe(0o600);
    const env = parseEnv(readFileSync(file, 'utf8'));
    expect(env).toMatchObject({ ...first.tokens, LOG_LEVEL: 'debug', EHR_READ_TOKEN: 'kept-read-token-0123456789abcdef0123456' });
    expect(first.tokens.EHR_READ_TOKEN).toBe('kept-read-token-0123456789abcdef0123456');
    const before = readFileSync(file, 'utf8');
    expect(ensureComposeTokens(file).added).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
