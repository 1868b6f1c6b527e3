import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveDuckdbPath, snowflakeCredentials, warehouseKind } from '../src/index.js';

const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

describe('sink config', () => {
  it('defaults to DuckDB, and to Snowflake once an account is set', () => {
    expect(warehouseKind(loadConfig({}))).toBe('duckdb');
    const sf = loadConfig({ SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_USER: 'sink', SNOWFLAKE_PASSWORD: 'x', SNOWFLAKE_DATABASE: 'EHR' });
    expect(warehouseKind(sf)).toBe('snowflake');
    expect(warehouseKind({ ...sf, SINK_WAREHOUSE: 'duckdb' })).toBe('duckdb');
  });

  it('puts the DuckDB file under the repository root from the root and from the service folder', () => {
    const expected = join(repoRoot, 'data', 'warehouse.duckdb');
    expect(resolveDuckdbPath({}, repoRoot)).toBe(expected);
    expect(resolveDuckdbPath({}, join(repoRoot, 'services', 'sink'))).toBe(expected);
    expect(resolveDuckdbPath({ DUCKDB_PATH: 'x/w.duckdb' }, '/srv')).toBe('/srv/x/w.duckdb');
    expect(resolveDuckdbPath({ DUCKDB_PATH: '/abs/w.duckdb' }, '/srv')).toBe('/abs/w.duckdb');
  });

  it('chooses the authenticator from the credentials given, and names what is missing', () => {
    const base = { SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_USER: 'sink', SNOWFLAKE_DATABASE: 'EHR' };
    expect(snowflakeCredentials(loadConfig({ ...base, SNOWFLAKE_PRIVATE_KEY_PATH: '/k.p8', SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'pp' })).auth).toEqual({
      authenticator: 'SNOWFLAKE_JWT',
      privateKeyPath: '/k.p8',
      privateKeyPass: 'pp',
    });
    expect(snowflakeCredentials(loadConfig({ ...base, SNOWFLAKE_TOKEN: 't' })).auth).toEqual({ authenticator: 'OAUTH', token: 't' });
    expect(snowflakeCredentials(loadConfig({ ...base, SNOWFLAKE_PASSWORD: 'p' })).auth).toEqual({ authenticator: 'SNOWFLAKE', password: 'p' });
    const err = (() => {
      try {
        loadConfig({ SNOWFLAKE_ACCOUNT: 'acme' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const variables = (err as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['SNOWFLAKE_DATABASE', 'SNOWFLAKE_PASSWORD', 'SNOWFLAKE_USER']);
    // A secret that is given never shows up in the error.
    expect(() => loadConfig({ SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_PASSWORD: 'hunter2-secret' })).toThrow(/SNOWFLAKE_USER/);
    try {
      loadConfig({ SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_PASSWORD: 'hunter2-secret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2-secret');
    }
  });
});
