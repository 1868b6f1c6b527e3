import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, withConfigReference } from '../src/index.js';

describe('configuration reference', () => {
  it('documents every variable every service reads, with its default', () => {
    const rows = configReference();
    const byName = new Map(rows.map((r) => [r.variable, r]));
    for (const name of ['KAFKA_BROKERS', 'PORT', 'MODEL_PATH', 'DUCKDB_PATH', 'SNOWFLAKE_ACCOUNT', 'SCORING_ADMIN_TOKEN', 'LOG_LEVEL']) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(byName.get('PORT')!.default).toBe('producer: 3001, feature: 3002, scoring: 3003, sink: 3004, alerting: 3005, dashboard: 3000');
    expect(byName.get('KAFKA_BROKERS')!.services).toHaveLength(6);
    for (const row of rows) expect(row.description, `${row.variable} has a description`).not.toBe('');
  });

  it('shows every constraint: ranges, lengths, patterns in words, and which values are secrets', () => {
    const rule = (name: string) => configReference().find((r) => r.variable === name)?.rule;
    expect(rule('PORT')).toBe('integer 0–65535');
    expect(rule('SHUTDOWN_TIMEOUT_MS')).toBe('integer ≥ 100');
    expect(rule('PRODUCER_RATE')).toBe('number > 0, ≤ 1000000');
    expect(rule('PRODUCER_SPEED')).toBe('`max` or number > 0, ≤ 1000000');
    expect(rule('SCORING_ADMIN_TOKEN')).toBe('at least 16 characters; secret: never logged or shown');
    expect(rule('AUTH_READ_TOKENS')).toMatch(/^comma-separated tokens of at least 32 printable characters each .*; secret: never logged or shown$/);
    expect(rule('SNOWFLAKE_PASSWORD')).toMatch(/secret: never logged or shown$/);
    expect(rule('LOG_LEVEL')).toMatch(/^one of `fatal`, `error`/);
    expect(rule('MODEL_WATCH')).toBe('`true` or `false`');
    expect(rule('KAFKA_BROKERS')).toContain('matching `^[^,\\s]+');
  });

  it('is what the root README shows (run `npm run docs:config` after changing a config schema)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });
});
