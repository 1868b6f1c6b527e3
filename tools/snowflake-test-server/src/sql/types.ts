/**
 * Snowflake data types and the DuckDB types that store them.
 */
import { unsupportedType, syntaxError } from '../errors.js';
import type { Token } from './tokenizer.js';

export type SfTypeKind =
  | 'FIXED'
  | 'REAL'
  | 'TEXT'
  | 'BOOLEAN'
  | 'DATE'
  | 'TIME'
  | 'TIMESTAMP_NTZ'
  | 'TIMESTAMP_LTZ'
  | 'TIMESTAMP_TZ'
  | 'VARIANT'
  | 'OBJECT'
  | 'ARRAY'
  | 'BINARY';

export interface SfType {
  kind: SfTypeKind;
  /** The type as Snowflake's DESCRIBE shows it, e.g. NUMBER(38,0), VARCHAR(16777216). */
  display: string;
  /** The DuckDB type that stores it. */
  duck: string;
  precision?: number;
  scale?: number;
}

export function isSemiStructured(kind: SfTypeKind): boolean {
  return kind === 'VARIANT' || kind === 'OBJECT' || kind === 'ARRAY';
}

const INTEGER_NAMES = new Set(['INT', 'INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'BYTEINT']);
const NUMBER_NAMES = new Set(['NUMBER', 'DECIMAL', 'NUMERIC', 'DEC']);
const FLOAT_NAMES = new Set(['FLOAT', 'FLOAT4', 'FLOAT8', 'DOUBLE', 'REAL']);
const STRING_NAMES = new Set(['VARCHAR', 'STRING', 'TEXT', 'CHAR', 'CHARACTER', 'NCHAR', 'NVARCHAR', 'NVARCHAR2', 'NCHAR']);

export interface ParsedType {
  type: SfType;
  /** Index of the first token after the type. */
  next: number;
}

function num(tok: Token | undefined): number | undefined {
  return tok && tok.kind === 'number' && /^\d+$/.test(tok.value) ? Number(tok.value) : undefined;
}

/**
 * Parses a Snowflake type name starting at `tokens[i]`. Throws Snowflake's
 * "Unsupported data type" for anything Snowflake does not have (JSON, HUGEINT, UUID,
 * LIST, STRUCT, MAP, BLOB …) and for Snowflake types this server does not emulate.
 */
export function parseType(tokens: Token[], i: number, pos: (t: Token) => { line: number; position: number }): ParsedType {
  const first = tokens[i];
  if (!first || (first.kind !== 'word' && first.kind !== 'qident')) {
    const t = first ?? tokens[tokens.length - 1];
    const p = t ? pos(t) : { line: 1, position: 0 };
    throw syntaxError(first?.value ?? '<EOF>', p.line, p.position);
  }
  if (first.kind === 'qident') throw unsupportedType(first.value);
  const name = first.value.toUpperCase();
  let j = i + 1;
  const word = (k: number): string | undefined => (tokens[k]?.kind === 'word' ? tokens[k].value.toUpperCase() : undefined);
  const isOp = (k: number, v: string): boolean => tokens[k]?.kind === 'op' && tokens[k].value === v;
  // Optional "(a[, b])" argument list.
  const args = (): number[] => {
    if (!isOp(j, '(')) return [];
    const out: number[] = [];
    j++;
    for (;;) {
      const v = num(tokens[j]);
      if (v === undefined) {
        const t = tokens[j] ?? first;
        const p = pos(t);
        throw syntaxError(t.value, p.line, p.position);
      }
      out.push(v);
      j++;
      if (isOp(j, ',')) {
        j++;
        continue;
      }
      if (isOp(j, ')')) {
        j++;
        return out;
      }
      const t = tokens[j] ?? first;
      const p = pos(t);
      throw syntaxError(t.value, p.line, p.position);
    }
  };
  const timestamp = (kind: 'TIMESTAMP_NTZ' | 'TIMESTAMP_LTZ' | 'TIMESTAMP_TZ'): ParsedType => {
    const a = args();
    const scale = a[0] ?? 9;
    if (scale > 9) throw unsupportedType(`${kind}(${scale})`);
    return { type: { kind, display: `${kind}(${scale})`, duck: kind === 'TIMESTAMP_NTZ' ? 'TIMESTAMP' : 'TIMESTAMPTZ', scale }, next: j };
  };

  if (INTEGER_NAMES.has(name)) return { type: { kind: 'FIXED', display: 'NUMBER(38,0)', duck: 'DECIMAL(38,0)', precision: 38, scale: 0 }, next: j };
  if (NUMBER_NAMES.has(name)) {
    const a = args();
    const p = a[0] ?? 38;
    const s = a[1] ?? 0;
    if (p < 1 || p > 38 || s < 0 || s > p) throw unsupportedType(`${name}(${a.join(',')})`);
    return { type: { kind: 'FIXED', display: `NUMBER(${p},${s})`, duck: `DECIMAL(${p},${s})`, precision: p, scale: s }, next: j };
  }
  if (FLOAT_NAMES.has(name)) {
    if (name === 'DOUBLE' && word(j) === 'PRECISION') j++;
    return { type: { kind: 'REAL', display: 'FLOAT', duck: 'DOUBLE' }, next: j };
  }
  if (STRING_NAMES.has(name)) {
    if ((name === 'CHAR' || name === 'CHARACTER' || name === 'NCHAR') && word(j) === 'VARYING') j++;
    const a = args();
    const len = a[0] ?? (name === 'CHAR' || name === 'CHARACTER' || name === 'NCHAR' ? (a.length ? a[0]! : 1) : 16777216);
    return { type: { kind: 'TEXT', display: `VARCHAR(${len})`, duck: 'VARCHAR' }, next: j };
  }
  if (name === 'BOOLEAN') return { type: { kind: 'BOOLEAN', display: 'BOOLEAN', duck: 'BOOLEAN' }, next: j };
  if (name === 'DATE') return { type: { kind: 'DATE', display: 'DATE', duck: 'DATE' }, next: j };
  if (name === 'TIME') {
    const a = args();
    return { type: { kind: 'TIME', display: `TIME(${a[0] ?? 9})`, duck: 'TIME', scale: a[0] ?? 9 }, next: j };
  }
  if (name === 'TIMESTAMP' || name === 'DATETIME') {
    if (word(j) === 'WITH' && word(j + 1) === 'LOCAL' && word(j + 2) === 'TIME' && word(j + 3) === 'ZONE') {
      j += 4;
      return timestamp('TIMESTAMP_LTZ');
    }
    if (word(j) === 'WITH' && word(j + 1) === 'TIME' && word(j + 2) === 'ZONE') {
      j += 3;
      return timestamp('TIMESTAMP_TZ');
    }
    if (word(j) === 'WITHOUT' && word(j + 1) === 'TIME' && word(j + 2) === 'ZONE') {
      j += 3;
      return timestamp('TIMESTAMP_NTZ');
    }
    // TIMESTAMP maps to TIMESTAMP_NTZ under Snowflake's default TIMESTAMP_TYPE_MAPPING.
    return timestamp('TIMESTAMP_NTZ');
  }
  if (name === 'TIMESTAMP_NTZ' || name === 'TIMESTAMPNTZ') return timestamp('TIMESTAMP_NTZ');
  if (name === 'TIMESTAMP_LTZ' || name === 'TIMESTAMPLTZ') return timestamp('TIMESTAMP_LTZ');
  if (name === 'TIMESTAMP_TZ' || name === 'TIMESTAMPTZ') return timestamp('TIMESTAMP_TZ');
  if (name === 'VARIANT' || name === 'OBJECT' || name === 'ARRAY') {
    if (isOp(j, '(')) throw unsupportedType(`${name}(…) structured type`);
    return { type: { kind: name, display: name, duck: 'JSON' }, next: j };
  }
  if (name === 'BINARY' || name === 'VARBINARY') {
    const a = args();
    return { type: { kind: 'BINARY', display: `BINARY(${a[0] ?? 8388608})`, duck: 'BLOB' }, next: j };
  }
  // GEOGRAPHY, GEOMETRY, VECTOR are Snowflake types this server does not emulate;
  // everything else (JSON, HUGEINT, UUID, LIST, STRUCT, MAP, BLOB, INTERVAL …) is not Snowflake.
  throw unsupportedType(name);
}
