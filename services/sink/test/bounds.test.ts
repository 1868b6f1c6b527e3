// The warehouse bounds are the sink's second guard: the contract already refuses most of
// what they catch (a time before 1900, for one), but a row that slipped past it must be
// quarantined before it can fail a whole batch's cast inside the warehouse.
import { describe, expect, it } from 'vitest';
import type { Column } from '../src/warehouse/schema.js';
import { outOfBounds } from '../src/warehouse/bounds.js';

interface Row {
  at: string;
  n: string | null;
}
const columns: Column<Row>[] = [
  { name: 'at', type: 'timestamp', notNull: true, value: (r) => r.at },
  { name: 'n', type: 'int', value: (r) => r.n },
];

describe('warehouse bounds', () => {
  it('refuses a timestamp outside Snowflake years 1..9999 and accepts one inside', () => {
    expect(outOfBounds(columns, { at: '0000-06-01T00:00:00Z', n: '1' })).toBe('column at is in year 0, outside 1..9999');
    expect(outOfBounds(columns, { at: '2026-06-01T00:00:00Z', n: '1' })).toBeNull();
  });

  it('refuses an INTEGER out of range and a null in a NOT NULL column', () => {
    expect(outOfBounds(columns, { at: '2026-06-01T00:00:00Z', n: String(2 ** 31) })).toMatch(/column n is 2147483648, outside INTEGER/);
    expect(outOfBounds(columns, { at: null as unknown as string, n: '1' })).toBe('column at is null, but NOT NULL');
  });
});
