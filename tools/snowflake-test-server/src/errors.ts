/**
 * Snowflake-style errors. Snowflake answers a failed statement with HTTP 200,
 * `success: false`, a six-digit error code and an SQLSTATE; the driver turns that
 * into an Error whose `code` and `sqlState` are these values.
 */
export class SnowflakeError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
    this.name = 'SnowflakeError';
  }
}

/** Error codes this server answers with (Snowflake's own numbering). */
export const ErrorCode = {
  UNSUPPORTED_FEATURE: '000002',
  STATEMENT_COUNT_MISMATCH: '000008',
  EMPTY_SQL: '000900',
  INVALID_IDENTIFIER: '000904',
  LOCK_CONFLICT: '000625',
  TRANSACTION_ABORTED: '000603',
  STATEMENT_NOT_FOUND: '000709',
  SYNTAX_ERROR: '001003',
  OBJECT_DOES_NOT_EXIST: '002003',
  OBJECT_ALREADY_EXISTS: '002002',
  TYPE_MISMATCH: '002023',
  UNSUPPORTED_DATA_TYPE: '002040',
  SCHEMA_DOES_NOT_EXIST: '002043',
  BIND_NOT_SET: '002049',
  UNKNOWN_FUNCTION: '002140',
  NUMERIC_NOT_RECOGNIZED: '100038',
  JSON_PARSE: '100069',
  NULL_IN_NOT_NULL: '100072',
  TIMESTAMP_NOT_RECOGNIZED: '100035',
  DUPLICATE_MERGE_ROW: '100090',
  INCORRECT_USERNAME_PASSWORD: '390100',
  SESSION_TOKEN_INVALID: '390104',
  GONE_SESSION: '390111',
  SESSION_TOKEN_EXPIRED: '390112',
  MASTER_TOKEN_EXPIRED: '390114',
  MASTER_TOKEN_INVALID: '390115',
  JWT_INVALID: '390144',
} as const;

export function syntaxError(unexpected: string, line: number, position: number): SnowflakeError {
  return new SnowflakeError(
    ErrorCode.SYNTAX_ERROR,
    '42000',
    `SQL compilation error:\nsyntax error line ${line} at position ${position} unexpected '${unexpected}'.`,
  );
}

export function unsupported(feature: string): SnowflakeError {
  return new SnowflakeError(ErrorCode.UNSUPPORTED_FEATURE, '0A000', `Unsupported feature '${feature}'.`);
}

export function unknownFunction(name: string): SnowflakeError {
  return new SnowflakeError(ErrorCode.UNKNOWN_FUNCTION, '42601', `SQL compilation error:\nUnknown function ${name}`);
}

export function unsupportedType(name: string): SnowflakeError {
  return new SnowflakeError(ErrorCode.UNSUPPORTED_DATA_TYPE, '42601', `SQL compilation error:\nUnsupported data type '${name}'.`);
}

/**
 * Maps a DuckDB error message to the Snowflake error a client would have seen for
 * the same mistake. Unknown messages become a generic SQL execution error that keeps
 * DuckDB's text (prefixed so a reader knows where it came from).
 */
export function fromDuckDbError(err: unknown): SnowflakeError {
  if (err instanceof SnowflakeError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw.split('\n')[0] ?? raw;
  let m: RegExpMatchArray | null;
  if ((m = /Catalog Error: Table with name (\S+) does not exist/i.exec(msg)) || (m = /Catalog Error: Table "?([^"\s]+)"? does not exist/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.OBJECT_DOES_NOT_EXIST, '42S02', `SQL compilation error:\nObject '${m[1]}' does not exist or not authorized.`);
  }
  if ((m = /Catalog Error: Schema with name (\S+) does not exist/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.SCHEMA_DOES_NOT_EXIST, '02000', `SQL compilation error:\nSchema '${m[1]}' does not exist or not authorized.`);
  }
  if ((m = /Catalog Error: Table with name (\S+) already exists/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.OBJECT_ALREADY_EXISTS, '42710', `SQL compilation error:\nObject '${m[1]}' already exists.`);
  }
  if ((m = /Referenced column "?([^"\s]+)"? not found/i.exec(msg)) || (m = /does not have a column named "([^"]+)"/i.exec(msg)) || (m = /Column with name (\S+) does not exist/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.INVALID_IDENTIFIER, '42000', `SQL compilation error:\ninvalid identifier '${m[1]}'`);
  }
  if (/Parser Error/i.test(msg)) {
    const near = /at or near "([^"]*)"/.exec(msg)?.[1] ?? '';
    return new SnowflakeError(ErrorCode.SYNTAX_ERROR, '42000', `SQL compilation error:\nsyntax error unexpected '${near}'. (${msg})`);
  }
  if (/Malformed JSON|JSON/i.test(msg) && /Conversion Error|Invalid Input Error/i.test(msg)) {
    return new SnowflakeError(ErrorCode.JSON_PARSE, '22P02', `Error parsing JSON: ${msg}`);
  }
  if ((m = /Could not convert string '([^']*)' to (INT|DECIMAL|DOUBLE|FLOAT|BIGINT|HUGEINT)/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.NUMERIC_NOT_RECOGNIZED, '22018', `Numeric value '${m[1]}' is not recognized`);
  }
  if ((m = /(?:timestamp|date) field value out of range: "([^"]*)"|invalid timestamp field format: "([^"]*)"/i.exec(msg))) {
    return new SnowflakeError(ErrorCode.TIMESTAMP_NOT_RECOGNIZED, '22007', `Timestamp '${m[1] ?? m[2]}' is not recognized`);
  }
  if (/NOT NULL constraint failed/i.test(msg)) {
    return new SnowflakeError(ErrorCode.NULL_IN_NOT_NULL, '22000', `NULL result in a non-nullable column`);
  }
  if (/CHECK constraint failed/i.test(msg)) {
    return new SnowflakeError(ErrorCode.TYPE_MISMATCH, '22000', `Expression type does not match column data type (${msg})`);
  }
  if (/Conflict on|write-write conflict|TransactionContext Error: .*conflict/i.test(msg)) {
    return new SnowflakeError(ErrorCode.LOCK_CONFLICT, '57014', `Statement was aborted because another transaction holds a conflicting lock on the same rows (${msg}).`);
  }
  if (/transaction is aborted/i.test(msg)) {
    return new SnowflakeError(ErrorCode.TRANSACTION_ABORTED, '25P02', `The current transaction was aborted by an earlier error; ROLLBACK it (${msg}).`);
  }
  if ((m = /Scalar Function with name (\S+) does not exist|Table Function with name (\S+) does not exist/i.exec(msg))) {
    return unknownFunction((m[1] ?? m[2] ?? '').toUpperCase());
  }
  if (/Conversion Error|Invalid Input Error|Out of Range Error/i.test(msg)) {
    return new SnowflakeError('100037', '22000', msg);
  }
  if (/Binder Error|Catalog Error/i.test(msg)) {
    return new SnowflakeError('002262', '42000', `SQL compilation error:\n${msg}`);
  }
  return new SnowflakeError('000603', 'XX000', `SQL execution internal error: ${msg}`);
}
