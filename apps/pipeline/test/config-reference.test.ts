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

  it('is what the root README shows (run `npm run docs:config` after changing a config schema)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });
});
