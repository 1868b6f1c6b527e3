import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig, ServiceEnv } from '../src/index.js';

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
