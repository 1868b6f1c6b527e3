/**
 * DuckDB results → Snowflake JSON result sets: a `rowtype` per column and rows of
 * strings in Snowflake's JSON encodings (what snowflake-sdk's column.js decodes).
 */
import { DuckDBTypeId, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

export interface RowType {
  name: string;
  database: string;
  schema: string;
  table: string;
  nullable: boolean;
  type: string;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  collation: null;
}

export type Encoder = (v: DuckDBValue) => string | null;

/** Declared Snowflake type of a column (from the catalog), used to pick TZ vs LTZ, OBJECT vs ARRAY. */
export type DeclaredKind = 'OBJECT' | 'ARRAY' | 'VARIANT' | 'TIMESTAMP_TZ' | 'TIMESTAMP_LTZ';

const TEXT_LEN = 16777216;

function col(name: string, type: string, extra: Partial<RowType> = {}): RowType {
  return { name, database: '', schema: '', table: '', nullable: true, type, precision: null, scale: null, length: null, byteLength: null, collation: null, ...extra };
}

export function textColumn(name: string): RowType {
  return col(name, 'text', { length: TEXT_LEN, byteLength: TEXT_LEN });
}

export function fixedColumn(name: string, precision = 19, scale = 0): RowType {
  return col(name, 'fixed', { precision, scale, nullable: false });
}

function pad(n: bigint, width: number): string {
  return n.toString().padStart(width, '0');
}

/** A scaled integer (value × 10^-scale) as a plain decimal string. */
export function decimalString(value: bigint, scale: number): string {
  if (scale === 0) return value.toString();
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const f = 10n ** BigInt(scale);
  return `${neg ? '-' : ''}${(abs / f).toString()}.${pad(abs % f, scale)}`;
}

/** Epoch microseconds as Snowflake's "seconds.fraction" with 9 fractional digits. */
export function epochMicrosString(micros: bigint): string {
  let secs = micros / 1_000_000n;
  let rem = micros % 1_000_000n;
  if (rem < 0n) {
    secs -= 1n;
    rem += 1_000_000n;
  }
  return `${secs.toString()}.${pad(rem * 1000n, 9)}`;
}

function numberString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

/** Rowtype and encoder for one DuckDB result column. */
export function describeColumn(name: string, type: DuckDBType, declared?: DeclaredKind): { rowtype: RowType; encode: Encoder } {
  const str: Encoder = (v) => (v === null ? null : String(v));
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { rowtype: col(name, 'boolean'), encode: (v) => (v === null ? null : v === true ? '1' : '0') };
    case DuckDBTypeId.TINYINT:
      return { rowtype: col(name, 'fixed', { precision: 3, scale: 0 }), encode: str };
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { rowtype: col(name, 'fixed', { precision: 5, scale: 0 }), encode: str };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { rowtype: col(name, 'fixed', { precision: 10, scale: 0 }), encode: str };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return { rowtype: col(name, 'fixed', { precision: 19, scale: 0 }), encode: str };
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return { rowtype: col(name, 'fixed', { precision: 38, scale: 0 }), encode: str };
    case DuckDBTypeId.DECIMAL: {
      const t = type as unknown as { width: number; scale: number };
      return {
        rowtype: col(name, 'fixed', { precision: t.width, scale: t.scale }),
        encode: (v) => {
          if (v === null) return null;
          const d = v as unknown as { value: bigint; scale: number };
          return decimalString(d.value, d.scale);
        },
      };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { rowtype: col(name, 'real'), encode: (v) => (v === null ? null : numberString(Number(v))) };
    case DuckDBTypeId.VARCHAR: {
      if (type.alias === 'JSON') {
        const kind = declared === 'OBJECT' ? 'object' : declared === 'ARRAY' ? 'array' : 'variant';
        return { rowtype: col(name, kind, { length: TEXT_LEN, byteLength: TEXT_LEN }), encode: str };
      }
      return { rowtype: textColumn(name), encode: str };
    }
    case DuckDBTypeId.DATE:
      return { rowtype: col(name, 'date'), encode: (v) => (v === null ? null : String((v as unknown as { days: number }).days)) };
    case DuckDBTypeId.TIME:
      return {
        rowtype: col(name, 'time', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { micros: bigint }).micros)),
      };
    case DuckDBTypeId.TIMESTAMP:
      return {
        rowtype: col(name, 'timestamp_ntz', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { micros: bigint }).micros)),
      };
    case DuckDBTypeId.TIMESTAMP_S:
      return {
        rowtype: col(name, 'timestamp_ntz', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { seconds: bigint }).seconds * 1_000_000n)),
      };
    case DuckDBTypeId.TIMESTAMP_MS:
      return {
        rowtype: col(name, 'timestamp_ntz', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { millis: bigint }).millis * 1000n)),
      };
    case DuckDBTypeId.TIMESTAMP_NS:
      return {
        rowtype: col(name, 'timestamp_ntz', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { nanos: bigint }).nanos / 1000n)),
      };
    case DuckDBTypeId.TIMESTAMP_TZ: {
      // DuckDB keeps the instant, not the offset it was written with: TIMESTAMP_TZ values come back at +00:00.
      if (declared === 'TIMESTAMP_TZ') {
        return {
          rowtype: col(name, 'timestamp_tz', { scale: 9, precision: 0 }),
          encode: (v) => (v === null ? null : `${epochMicrosString((v as unknown as { micros: bigint }).micros)} 1440`),
        };
      }
      return {
        rowtype: col(name, 'timestamp_ltz', { scale: 9, precision: 0 }),
        encode: (v) => (v === null ? null : epochMicrosString((v as unknown as { micros: bigint }).micros)),
      };
    }
    case DuckDBTypeId.BLOB:
      return {
        rowtype: col(name, 'binary', { length: 8388608, byteLength: 8388608 }),
        encode: (v) => (v === null ? null : Buffer.from((v as unknown as { bytes: Uint8Array }).bytes).toString('hex').toUpperCase()),
      };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      // DuckDB nested values have no Snowflake equivalent; they come back as their text form.
      return { rowtype: textColumn(name), encode: (v) => (v === null ? null : String(v)) };
    default:
      return { rowtype: textColumn(name), encode: str };
  }
}
