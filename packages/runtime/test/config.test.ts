import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { AuthEnv, ConfigError, readConfig, ServiceEnv } from '../src/index.js';

const Schema = Type.Composite([
  ServiceEnv,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
    DEBOUNCE_MS: Type.Integer({ minimum: 0, default: 0 }),
    STRICT: Type.Boolean({ default: false }),
    TOKEN: Type.String({ minLength: 8, description: 'admin token' }),
  }),
]);

describe('readConfig', () => {
  it('applies defaults and coerces strings', () => {
    const c = readConfig(Schema, { PORT: '4000', STRICT: 'true', TOKEN: 'abcdefgh', LOG_LEVEL: '' });
    expect(c).toMatchObject({ PORT: 4000, STRICT: true, DEBOUNCE_MS: 0, LOG_LEVEL: 'info', HOST: '127.0.0.1' });
  });

  it('fails fast naming every bad variable', () => {
    let error: unknown;
    try {
      readConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud' }, 'feature');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems.map((p) => p.variable).sort()).toEqual(['LOG_LEVEL', 'PORT', 'TOKEN']);
    expect(e.message).toContain('invalid configuration for feature');
    expect(e.message).toMatch(/PORT: .*got "eighty"/);
    expect(e.message).toMatch(/LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(e.message).toMatch(/TOKEN: is required \(it is not set\) — admin token/);
  });
});

describe('readConfig and secrets', () => {
  const Secrets = Type.Composite([
    AuthEnv,
    Type.Object({ SCORING_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })), KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 12 })) }),
  ]);

  it('names the variable and the rule, never the value of a secret', () => {
    let error: unknown;
    try {
      readConfig(Secrets, { AUTH_INGEST_TOKENS: 'too-short-secret-value', SCORING_ADMIN_TOKEN: 'short-admin', KAFKA_SASL_PASSWORD: 'pw-secret' }, 'producer');
    } catch (e) {
      error = e;
    }
    const e = error as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.problems.map((p) => p.variable).sort()).toEqual(['AUTH_INGEST_TOKENS', 'KAFKA_SASL_PASSWORD', 'SCORING_ADMIN_TOKEN']);
    expect(e.message).toMatch(/AUTH_INGEST_TOKENS: must be comma-separated tokens of at least 32 printable characters each .*\(value not shown: it is a secret\)/);
    expect(e.message).toMatch(/SCORING_ADMIN_TOKEN: Expected string length greater or equal to 16 \(value not shown: it is a secret\)/);
    for (const secret of ['too-short-secret-value', 'short-admin', 'pw-secret']) expect(JSON.stringify({ m: e.message, p: e.problems })).not.toContain(secret);
  });

  it('accepts several tokens per scope', () => {
    const tokens = 'a'.repeat(32) + ' , ' + 'b'.repeat(40);
    expect(readConfig(AuthEnv, { AUTH_READ_TOKENS: tokens, ALLOW_INSECURE: 'true' })).toEqual({ AUTH_READ_TOKENS: tokens, ALLOW_INSECURE: true });
  });
});
