// What both warehouses accept, checked before a row is offered to either: a row outside
// these bounds would fail its cast or constraint inside the batch transaction. The sink
// quarantines it instead (a `warehouse_rejected` dead letter), so such failures are rare.
import type { Column } from './schema.js';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;
/** Snowflake's TIMESTAMP range is years 1 to 9999 (DuckDB's is wider). */
const YEAR_MIN = 1;
const YEAR_MAX = 9999;

function problem(type: Column<unknown>['type'], value: string, maxLength: number | undefined): string | null {
  if ((type === 'text' || type === 'json') && maxLength !== undefined && value.length > maxLength) {
    return `is ${value.length} characters, over its ${maxLength}`;
  }
  switch (type) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) return `is not an integer: ${value.slice(0, 40)}`;
      const n = Number(value);
      return n < INT_MIN || n > INT_MAX ? `is ${value.slice(0, 40)}, outside INTEGER (${INT_MIN}..${INT_MAX})` : null;
    }
    case 'bigint': {
      if (!/^-?\d+$/.test(value)) return `is not an integer: ${value.slice(0, 40)}`;
      const n = BigInt(value);
      return n < BIGINT_MIN || n > BIGINT_MAX ? `is ${value.slice(0, 40)}, outside BIGINT (64 bits)` : null;
    }
    case 'double':
      return Number.isFinite(Number(value)) && value.trim() !== '' ? null : `is not a finite number: ${value.slice(0, 40)}`;
    case 'timestamp': {
      const t = Date.parse(value);
      if (!Number.isFinite(t)) return `is not a timestamp: ${value.slice(0, 40)}`;
      const year = new Date(t).getUTCFullYear();
      return year < YEAR_MIN || year > YEAR_MAX ? `is in year ${year}, outside ${YEAR_MIN}..${YEAR_MAX}` : null;
    }
    default:
      return null;
  }
}

/** The first way `row` breaks the bounds of `columns` ("column news2 is …"), or null when it fits. */
export function outOfBounds<R>(columns: readonly Column<R>[], row: R): string | null {
  for (const c of columns) {
    if (c.fits?.(row)) continue;
    const value = c.value(row);
    if (value === null) {
      if (c.notNull) return `column ${c.name} is null, but NOT NULL`;
      continue;
    }
    const p = problem(c.type, value, c.maxLength);
    if (p !== null) return `column ${c.name} ${p}`;
  }
  return null;
}

/** Cuts every text column to its bound (for the sink's own quarantine rows, which must always fit). */
export function clip(text: string | null, max: number): string | null {
  return text === null || text.length <= max ? text : text.slice(0, max);
}
