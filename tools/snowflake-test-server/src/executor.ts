/**
 * Runs one Snowflake statement of a session on its DuckDB connection and builds the
 * JSON answer the driver expects.
 */
import { randomUUID } from 'node:crypto';
import { LIST, VARCHAR, listValue, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { ErrorCode, SnowflakeError, fromDuckDbError } from './errors.js';
import { describeColumn, fixedColumn, textColumn, type DeclaredKind, type RowType } from './results.js';
import type { Session } from './session.js';
import { finalizeParams, translate, type Command, type SqlTranslation } from './sql/translate.js';

export interface Binding {
  type: string;
  value: string | null | (string | null)[];
}

export interface QueryRequest {
  sqlText: string;
  bindings?: Record<string, Binding>;
  bindStage?: string;
}

export interface QueryData {
  parameters: { name: string; value: unknown }[];
  rowtype: RowType[];
  rowset: (string | null)[][];
  total: number;
  returned: number;
  queryId: string;
  databaseProvider: null;
  finalDatabaseName: string;
  finalSchemaName: string;
  finalWarehouseName: string;
  finalRoleName: string;
  numberOfBinds: number;
  arrayBindSupported: boolean;
  statementTypeId: number;
  version: 1;
  sendResultTime: number;
  queryResultFormat: 'json';
}

/** Session parameters every result carries (the driver formats dates with them). */
export const RESULT_PARAMETERS: { name: string; value: unknown }[] = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: '' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: '' },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'CLIENT_TIMESTAMP_TYPE_MAPPING', value: 'TIMESTAMP_LTZ' },
];

const TYPE_ID = { SELECT: 0x1000, INSERT: 0x3100, UPDATE: 0x3200, DELETE: 0x3300, MERGE: 0x3400, DDL: 0x6000 } as const;

/** What the server knows about declared column types (refreshed after DDL). */
export interface Catalog {
  variantColumns: ReadonlySet<string>;
  declared: ReadonlyMap<string, DeclaredKind>;
  refresh(): Promise<void>;
}

export interface ExecStats {
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
}

interface Rows {
  rowtype: RowType[];
  rowset: (string | null)[][];
  statementTypeId: number;
}

function statusResult(message: string, statementTypeId: number): Rows {
  return { rowtype: [textColumn('status')], rowset: [[message]], statementTypeId };
}

/** DuckDB type for a bind the server could not type from the statement, from the driver's bind type. */
function typeFromBind(b: Binding): string {
  const values = Array.isArray(b.value) ? b.value : [b.value];
  switch (b.type) {
    case 'FIXED':
      return values.every((v) => v === null || /^-?\d{1,18}$/.test(v)) ? 'BIGINT' : 'DOUBLE';
    case 'REAL':
      return 'DOUBLE';
    case 'BOOLEAN':
      return 'BOOLEAN';
    default:
      return 'VARCHAR';
  }
}

function paramTypeOrUndefined(p: DuckDBPreparedStatement, k: number): string | undefined {
  try {
    const t = p.parameterType(k);
    const s = t.toString();
    if (s === 'ANY' || s === 'UNKNOWN' || s === 'NULL' || s === '"NULL"') return undefined;
    return s;
  } catch {
    return undefined;
  }
}

function bindOne(p: DuckDBPreparedStatement, k: number, b: Binding, value: string | null, inferred: string | undefined): void {
  if (value === null) {
    p.bindNull(k);
    return;
  }
  if (inferred !== undefined) {
    // DuckDB casts the text to the type it inferred, as it would a literal.
    p.bindVarchar(k, value);
    return;
  }
  switch (typeFromBind(b)) {
    case 'BIGINT':
      p.bindBigInt(k, BigInt(value));
      return;
    case 'DOUBLE':
      p.bindDouble(k, Number(value));
      return;
    case 'BOOLEAN':
      p.bindBoolean(k, value === 'true' || value === '1' || value.toUpperCase() === 'TRUE');
      return;
    default:
      p.bindVarchar(k, value);
  }
}

export class Executor {
  constructor(
    private readonly catalog: Catalog,
    private readonly stats: ExecStats,
  ) {}

  async execute(session: Session, req: QueryRequest): Promise<QueryData> {
    const queryId = randomUUID();
    if (req.bindStage) {
      throw new SnowflakeError(
        ErrorCode.UNSUPPORTED_FEATURE,
        '0A000',
        "Unsupported feature 'stage array binding': snowflake-test-server takes array binds inline only; keep rows × columns at or below the arrayBindingThreshold the server sends at login.",
      );
    }
    const info = session.info;
    const t = translate(req.sqlText, {
      variantColumns: this.catalog.variantColumns,
      session: { database: info.database, schema: info.schema, user: info.user, role: info.role, warehouse: info.warehouse, sessionId: String(session.id) },
    });
    const rows = t.kind === 'command' ? await this.command(session, t.command) : await this.sql(session, t, req.bindings ?? {});
    return {
      parameters: RESULT_PARAMETERS,
      rowtype: rows.rowtype,
      rowset: rows.rowset,
      total: rows.rowset.length,
      returned: rows.rowset.length,
      queryId,
      databaseProvider: null,
      finalDatabaseName: session.info.database,
      finalSchemaName: session.info.schema,
      finalWarehouseName: session.info.warehouse,
      finalRoleName: session.info.role,
      numberOfBinds: req.bindings ? Object.keys(req.bindings).length : 0,
      arrayBindSupported: false,
      statementTypeId: rows.statementTypeId,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: 'json',
    };
  }

  private async run(conn: DuckDBConnection, sql: string): Promise<void> {
    try {
      await conn.run(sql);
    } catch (err) {
      throw fromDuckDbError(err);
    }
  }

  private async command(session: Session, c: Command): Promise<Rows> {
    const conn = session.conn;
    switch (c.kind) {
      case 'begin':
        session.abortedTransaction = null;
        // Snowflake ignores BEGIN inside an open transaction.
        if (!session.inTransaction) {
          await this.run(conn, 'BEGIN TRANSACTION');
          session.inTransaction = true;
        }
        return statusResult('Statement executed successfully.', 0x5000);
      case 'commit':
      case 'rollback':
        if (session.abortedTransaction !== null) {
          const why = session.abortedTransaction;
          session.abortedTransaction = null;
          if (c.kind === 'commit') throw new SnowflakeError(ErrorCode.TRANSACTION_ABORTED, '25P02', why);
        }
        // COMMIT/ROLLBACK with no open transaction succeed and do nothing, as in Snowflake.
        if (session.inTransaction) {
          session.inTransaction = false;
          await this.run(conn, c.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
        }
        return statusResult('Statement executed successfully.', 0x5000);
      case 'use': {
        if (c.objectType === 'SCHEMA') {
          const r = await conn.runAndReadAll('SELECT count(*) FROM duckdb_schemas() WHERE schema_name = $1', [c.name]);
          if (Number(r.getRows()[0]?.[0] ?? 0) === 0) {
            throw new SnowflakeError(ErrorCode.SCHEMA_DOES_NOT_EXIST, '02000', `Object does not exist, or operation cannot be performed. (schema ${c.name})`);
          }
          await this.run(conn, `SET schema = '${c.name.replace(/'/g, "''")}'`);
          session.info = { ...session.info, schema: c.name, ...(c.database !== undefined ? { database: c.database } : {}) };
          return statusResult('Statement executed successfully.', 0x4302);
        }
        if (c.objectType === 'DATABASE') session.info = { ...session.info, database: c.name };
        if (c.objectType === 'WAREHOUSE') session.info = { ...session.info, warehouse: c.name };
        if (c.objectType === 'ROLE') session.info = { ...session.info, role: c.name };
        return statusResult('Statement executed successfully.', c.objectType === 'DATABASE' ? 0x4301 : c.objectType === 'WAREHOUSE' ? 0x4303 : 0x4300);
      }
      case 'alterSession':
        return statusResult('Statement executed successfully.', 0x4100);
      case 'noop':
        return statusResult(c.message, c.statementTypeId);
      case 'showTables': {
        const r = await conn.runAndReadAll(
          `SELECT table_name, schema_name, temporary, estimated_size, comment FROM duckdb_tables() WHERE NOT internal AND ($1 IS NULL OR table_name ILIKE $1) ORDER BY schema_name, table_name`,
          [c.like ?? null],
        );
        const rowtype = ['created_on', 'name', 'database_name', 'schema_name', 'kind', 'comment', 'cluster_by', 'rows', 'bytes', 'owner', 'retention_time'].map((n) =>
          n === 'rows' || n === 'bytes' ? fixedColumn(n, 38, 0) : textColumn(n),
        );
        const rowset = r.getRows().map((row) => [
          null,
          String(row[0]),
          session.info.database,
          String(row[1]),
          row[2] === true ? 'TEMPORARY' : 'TABLE',
          row[4] === null ? '' : String(row[4]),
          '',
          row[3] === null ? '0' : String(row[3]),
          '0',
          session.info.role,
          '1',
        ]);
        return { rowtype, rowset, statementTypeId: 0x4400 };
      }
      case 'describeTable': {
        const schema = c.schema ?? session.info.schema;
        const r = await conn.runAndReadAll(
          `SELECT column_name, data_type, is_nullable, column_default, comment FROM duckdb_columns() WHERE table_name = $1 AND schema_name = $2 ORDER BY column_index`,
          [c.table, schema],
        );
        const rows = r.getRows();
        if (rows.length === 0) {
          throw new SnowflakeError(ErrorCode.OBJECT_DOES_NOT_EXIST, '42S02', `SQL compilation error:\nTable '${c.table}' does not exist or not authorized.`);
        }
        const sfType = (duck: string, comment: unknown): string => {
          if (typeof comment === 'string' && comment.startsWith('sf:')) return comment.slice(3);
          if (duck === 'JSON') return 'VARIANT';
          if (duck.startsWith('DECIMAL')) return duck.replace('DECIMAL', 'NUMBER');
          if (duck === 'VARCHAR') return 'VARCHAR(16777216)';
          if (duck === 'DOUBLE') return 'FLOAT';
          if (duck === 'TIMESTAMP') return 'TIMESTAMP_NTZ(9)';
          if (duck === 'TIMESTAMP WITH TIME ZONE') return 'TIMESTAMP_LTZ(9)';
          if (duck === 'BIGINT' || duck === 'INTEGER') return 'NUMBER(38,0)';
          return duck;
        };
        const names = ['name', 'type', 'kind', 'null?', 'default', 'primary key', 'unique key', 'check', 'expression', 'comment', 'policy name'];
        const rowset = rows.map((row) => [
          String(row[0]),
          sfType(String(row[1]), row[4]),
          'COLUMN',
          row[2] === true ? 'Y' : 'N',
          row[3] === null ? null : String(row[3]),
          'N',
          'N',
          null,
          null,
          null,
          null,
        ]);
        return { rowtype: names.map(textColumn), rowset, statementTypeId: 0x4500 };
      }
    }
  }

  private async sql(session: Session, t: SqlTranslation, bindings: Record<string, Binding>): Promise<Rows> {
    const conn = session.conn;
    const binds: Binding[] = [];
    for (let k = 1; k <= t.paramCount; k++) {
      const b = bindings[String(k)];
      if (!b) throw new SnowflakeError(ErrorCode.BIND_NOT_SET, '42601', `SQL compilation error:\nBind variable ${t.paramCount > 0 ? '?' : ''} not set.`);
      binds.push(b);
    }
    if (t.statementType === 'DDL') {
      // Snowflake commits an open transaction before running DDL.
      if (session.inTransaction) {
        session.inTransaction = false;
        await this.run(conn, 'COMMIT');
      }
      for (const s of t.statements) await this.run(conn, finalizeParams(s));
      for (const p of t.post) {
        try {
          await conn.run(p);
        } catch {
          // comments are best effort (e.g. CREATE TABLE IF NOT EXISTS on an older table)
        }
      }
      await this.catalog.refresh();
      return statusResult('Statement executed successfully.', TYPE_ID.DDL);
    }
    const main = t.statements[0]!;
    const arrayRows = binds.length > 0 && Array.isArray(binds[0]!.value) ? (binds[0]!.value as unknown[]).length : undefined;
    if (arrayRows !== undefined && binds.some((b) => !Array.isArray(b.value) || b.value.length !== arrayRows)) {
      throw new SnowflakeError('002050', '42601', 'Array bind values must all be arrays of the same length.');
    }
    const isMerge = t.statementType === 'MERGE';
    const sqlFor = (text: string): string => finalizeParams(text) + (isMerge ? ' RETURNING merge_action' : '');

    let results: { columns: RowType[]; encoders: ((v: DuckDBValue) => string | null)[]; rows: DuckDBValue[][]; changed: number }[];
    try {
      if (arrayRows === undefined) {
        results = [await this.runPrepared(conn, sqlFor(main), binds, undefined)];
      } else if (t.arrayForm) {
        const plain = finalizeParams(main);
        let inferred = session.inferredTypes.get(plain);
        if (!inferred) {
          const prepared = await conn.prepare(plain);
          inferred = binds.map((_, i) => paramTypeOrUndefined(prepared, i + 1));
          session.inferredTypes.set(plain, inferred);
          if (session.inferredTypes.size > 100) session.inferredTypes.delete(session.inferredTypes.keys().next().value!);
        }
        const types = binds.map((b, i) => inferred[i] ?? typeFromBind(b));
        const text = sqlFor(t.arrayForm(types));
        const values: DuckDBValue[] = binds.map((b) => listValue(b.value as (string | null)[]));
        const listTypes = binds.map(() => LIST(VARCHAR));
        const reader = await conn.runAndReadAll(text, values, listTypes);
        results = [this.read(reader.columnNames(), reader.columnTypes(), reader.getRows(), reader.rowsChanged)];
      } else {
        // Binds used outside a single row producer: run once per bind row, atomically.
        const own = !session.inTransaction;
        if (own) await conn.run('BEGIN TRANSACTION');
        try {
          const prepared = await conn.prepare(sqlFor(main));
          results = [];
          for (let r = 0; r < arrayRows; r++) {
            results.push(await this.runPrepared(conn, '', binds, r, prepared));
          }
          if (own) await conn.run('COMMIT');
        } catch (err) {
          if (own) await conn.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    } catch (err) {
      throw fromDuckDbError(err);
    }

    switch (t.statementType) {
      case 'INSERT':
      case 'UPDATE':
      case 'DELETE': {
        const n = results.reduce((a, r) => a + r.changed, 0);
        const label = t.statementType === 'INSERT' ? 'inserted' : t.statementType === 'UPDATE' ? 'updated' : 'deleted';
        if (label === 'inserted') this.stats.rowsInserted += n;
        else if (label === 'updated') this.stats.rowsUpdated += n;
        else this.stats.rowsDeleted += n;
        const rowtype = [fixedColumn(`number of rows ${label}`)];
        const rowset = [[String(n)]];
        if (t.statementType === 'UPDATE') {
          rowtype.push(fixedColumn('number of multi-joined rows updated'));
          rowset[0]!.push('0');
        }
        return { rowtype, rowset, statementTypeId: TYPE_ID[t.statementType] };
      }
      case 'MERGE': {
        const counts = { INSERT: 0, UPDATE: 0, DELETE: 0 };
        for (const r of results) for (const row of r.rows) counts[String(row[0]) as keyof typeof counts]++;
        this.stats.rowsInserted += counts.INSERT;
        this.stats.rowsUpdated += counts.UPDATE;
        this.stats.rowsDeleted += counts.DELETE;
        const m = t.merge ?? { insert: true, update: true, delete: false };
        const rowtype: RowType[] = [];
        const row: string[] = [];
        if (m.insert) {
          rowtype.push(fixedColumn('number of rows inserted'));
          row.push(String(counts.INSERT));
        }
        if (m.update) {
          rowtype.push(fixedColumn('number of rows updated'));
          row.push(String(counts.UPDATE));
        }
        if (m.delete) {
          rowtype.push(fixedColumn('number of rows deleted'));
          row.push(String(counts.DELETE));
        }
        return { rowtype, rowset: [row], statementTypeId: TYPE_ID.MERGE };
      }
      default: {
        const first = results[0]!;
        const rowset: (string | null)[][] = [];
        for (const r of results) for (const row of r.rows) rowset.push(row.map((v, i) => r.encoders[i]!(v)));
        return { rowtype: first.columns, rowset, statementTypeId: TYPE_ID.SELECT };
      }
    }
  }

  private read(names: string[], types: DuckDBType[], rows: DuckDBValue[][], changed: number) {
    const described = names.map((n, i) => describeColumn(n, types[i]!, this.catalog.declared.get(n.toUpperCase())));
    return { columns: described.map((d) => d.rowtype), encoders: described.map((d) => d.encode), rows, changed };
  }

  private async runPrepared(conn: DuckDBConnection, sql: string, binds: Binding[], row: number | undefined, prepared?: DuckDBPreparedStatement) {
    const p = prepared ?? (await conn.prepare(sql));
    binds.forEach((b, i) => {
      const v = row === undefined ? (b.value as string | null) : (b.value as (string | null)[])[row]!;
      bindOne(p, i + 1, b, v ?? null, paramTypeOrUndefined(p, i + 1));
    });
    const reader = await p.runAndReadAll();
    return this.read(reader.columnNames(), reader.columnTypes(), reader.getRows(), reader.rowsChanged);
  }
}
