import { describe, expect, test } from 'vitest';
import { finalizeParams, tokenize, translate, type SqlTranslation } from '../src/index.js';

function sql(text: string, variantColumns: string[] = []): SqlTranslation {
  const t = translate(text, { variantColumns: new Set(variantColumns) });
  if (t.kind !== 'sql') throw new Error(`expected SQL, got command ${t.command.kind}`);
  return t;
}
const one = (text: string, variantColumns: string[] = []): string => finalizeParams(sql(text, variantColumns).statements[0]!);

function refused(text: string): { code: string; sqlState: string; message: string } {
  try {
    translate(text);
  } catch (e) {
    const err = e as { code: string; sqlState: string; message: string };
    return { code: err.code, sqlState: err.sqlState, message: err.message };
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('tokenizer', () => {
  test('decodes Snowflake string escapes and keeps quoted identifiers', () => {
    const ts = tokenize(`SELECT 'it''s', 'a\\'b\\n', $$raw 'x'$$, "Mixed Case" -- comment\n // another\n /* block */ FROM t`);
    expect(ts.filter((t) => t.kind === 'string').map((t) => t.value)).toEqual(["it's", "a'b\n", "raw 'x'"]);
    expect(ts.find((t) => t.kind === 'qident')?.value).toBe('Mixed Case');
    expect(ts.map((t) => t.value)).not.toContain('comment');
  });

  test('reports the line and position of an unterminated string', () => {
    expect(refused("SELECT 1,\n 'oops")).toMatchObject({ code: '001003', sqlState: '42000' });
  });
});

describe('what is rewritten and what is not', () => {
  test('upper-cases unquoted identifiers, never strings or quoted identifiers', () => {
    expect(one(`SELECT band, "lower_case" FROM scores WHERE band = 'on conflict returning ::json'`)).toBe(
      `SELECT BAND, "lower_case" FROM SCORES WHERE BAND = 'on conflict returning ::json'`,
    );
  });

  test('string literals are re-quoted for DuckDB (backslash escapes resolved)', () => {
    expect(one(`SELECT 'a\\'b'`)).toBe(`SELECT 'a''b'`);
  });

  test('drops the database from three-part table names', () => {
    expect(one('SELECT * FROM ehr.public.severity_scores')).toBe('SELECT * FROM PUBLIC.SEVERITY_SCORES');
    expect(one('INSERT INTO ehr.public.t (a) VALUES (1)')).toBe('INSERT INTO PUBLIC.T (A) VALUES (1)');
  });

  test('bind placeholders ? and :N', () => {
    expect(one('SELECT ?, ?')).toBe('SELECT $1, $2');
    expect(one('SELECT :2, :1, :2')).toBe('SELECT $2, $1, $2');
    expect(sql('SELECT :2, :1').paramCount).toBe(2);
    expect(refused('SELECT ?, :1').code).toBe('001003');
  });
});

describe('Snowflake types', () => {
  test('CREATE TABLE maps types, drops CLUSTER BY and unenforced keys, checks OBJECT/ARRAY', () => {
    const t = sql(
      `CREATE TABLE IF NOT EXISTS severity_scores (score_id STRING NOT NULL PRIMARY KEY, n INTEGER, p NUMBER(5,2), f DOUBLE, ok BOOLEAN,
       at TIMESTAMP_NTZ, tz TIMESTAMP_TZ(9), ltz TIMESTAMP_LTZ, d DATE, features VARIANT, o OBJECT, a ARRAY, UNIQUE (n))
       CLUSTER BY (TO_DATE(at)) DATA_RETENTION_TIME_IN_DAYS = 1 COMMENT = 'x'`,
    );
    expect(t.statementType).toBe('DDL');
    expect(t.statements[0]).toBe(
      'CREATE TABLE IF NOT EXISTS SEVERITY_SCORES (SCORE_ID VARCHAR NOT NULL, N DECIMAL(38,0), P DECIMAL(5,2), F DOUBLE, OK BOOLEAN, AT TIMESTAMP, TZ TIMESTAMPTZ, LTZ TIMESTAMPTZ, D DATE, FEATURES JSON, ' +
        "O JSON CHECK (json_type(O) = 'OBJECT'), A JSON CHECK (json_type(A) = 'ARRAY'))",
    );
    expect(t.post).toContain(`COMMENT ON COLUMN SEVERITY_SCORES.TZ IS 'sf:TIMESTAMP_TZ(9)'`);
  });

  test('ALTER TABLE ADD COLUMN IF NOT EXISTS, several columns', () => {
    const t = sql('ALTER TABLE t ADD COLUMN IF NOT EXISTS latency_ms NUMBER(10,0), extra VARIANT');
    expect(t.statements).toEqual(['ALTER TABLE T ADD COLUMN IF NOT EXISTS LATENCY_MS DECIMAL(10,0)', 'ALTER TABLE T ADD COLUMN IF NOT EXISTS EXTRA JSON']);
  });

  test('refuses types Snowflake does not have', () => {
    for (const q of ['CREATE TABLE t (j JSON)', 'CREATE TABLE t (h HUGEINT)', 'SELECT x::JSON FROM t', 'SELECT CAST(x AS UUID) FROM t', 'CREATE TABLE t (l INTEGER[])']) {
      const e = refused(q);
      expect(['002040', '001003']).toContain(e.code);
    }
    expect(refused('SELECT x::JSON FROM t')).toMatchObject({ code: '002040', message: expect.stringContaining("Unsupported data type 'JSON'") as unknown });
  });
});

describe('VARIANT access', () => {
  test('path and bracket access with casts', () => {
    expect(one('SELECT features:heart_rate::float FROM s')).toBe(`SELECT CAST(json_extract_string(FEATURES, '$."heart_rate"') AS DOUBLE) FROM S`);
    expect(one(`SELECT col['x'][0].y::string FROM s`)).toBe(`SELECT json_extract_string(COL, '$."x"[0]."y"') FROM S`);
    expect(one('SELECT features:Heart_Rate FROM s')).toBe(`SELECT json_extract(FEATURES, '$."Heart_Rate"') FROM S`);
  });

  test('a bare VARIANT column cast to a string is unquoted, like Snowflake', () => {
    expect(one('SELECT band::string, features::string FROM s', ['FEATURES'])).toBe(`SELECT CAST(BAND AS VARCHAR), json_extract_string(FEATURES, '$') FROM S`);
  });

  test('PARSE_JSON, TO_VARIANT, TO_TIMESTAMP_*', () => {
    expect(one(`SELECT PARSE_JSON(?), TO_VARIANT(1), TO_TIMESTAMP_TZ(?), TO_TIMESTAMP_NTZ('2024-01-01'), CURRENT_TIMESTAMP()`)).toBe(
      `SELECT sf_parse_json($1), sf_to_variant(1), sf_to_timestamp_tz($2), sf_to_timestamp_ntz('2024-01-01'), current_timestamp`,
    );
  });
});

describe('Snowflake-only restrictions', () => {
  test.each([
    ["INSERT INTO t (a, v) VALUES (?, PARSE_JSON(?))", 'PARSE_JSON(?)'],
    ["INSERT INTO t VALUES (1, TO_VARIANT('x'))", "TO_VARIANT('x')"],
    ["INSERT INTO t VALUES (1, OBJECT_CONSTRUCT('a', 1))", "OBJECT_CONSTRUCT('a', 1)"],
  ])('semi-structured constructors are refused in VALUES: %s', (q, shown) => {
    const e = refused(q);
    expect(e).toMatchObject({ code: '002014', sqlState: '22000' });
    expect(e.message).toContain(`Invalid expression [${shown}] in VALUES clause`);
  });

  test('but allowed in INSERT … SELECT and in plain VALUES', () => {
    expect(() => translate('INSERT INTO t (a, v) SELECT ?, PARSE_JSON(?)')).not.toThrow();
    expect(() => translate('INSERT INTO t (a, b) VALUES (?, CURRENT_TIMESTAMP())')).not.toThrow();
  });
});

describe('refused DuckDB-only syntax', () => {
  test.each([
    ['INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', 'CONFLICT'],
    ['INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET x = 1', 'CONFLICT'],
    ['INSERT OR REPLACE INTO t VALUES (1)', 'OR'],
    ['INSERT OR IGNORE INTO t VALUES (1)', 'OR'],
    ['INSERT INTO t VALUES (1) RETURNING *', 'RETURNING'],
    ['DELETE FROM t RETURNING id', 'RETURNING'],
    ["PRAGMA table_info('t')", 'PRAGMA'],
    ["ATTACH 'x.db'", 'ATTACH'],
    ['INSTALL httpfs', 'INSTALL'],
    ['FROM t SELECT a', 'FROM'],
    ["SELECT a->>'$.x' FROM t", '->>'],
    ['SELECT 1 == 1', '=='],
    ['INSERT INTO t BY NAME SELECT 1 AS a', 'NAME'],
  ])('%s', (q, unexpected) => {
    const e = refused(q);
    expect(e.code).toBe('001003');
    expect(e.sqlState).toBe('42000');
    expect(e.message).toContain(`unexpected '${unexpected}'`);
  });

  test.each([["SELECT * FROM read_csv('x.csv')"], ["SELECT * FROM read_parquet('x.parquet')"], ['SELECT * FROM range(10)'], ['SELECT list_value(1, 2)'], ["SELECT json_extract(x, '$.a') FROM t"]])(
    'DuckDB functions are unknown: %s',
    (q) => {
      expect(refused(q)).toMatchObject({ code: '002140', sqlState: '42601' });
    },
  );

  test.each([
    ['SELECT COUNT(*) FILTER (WHERE band = 1) AS n FROM t', 'FILTER'],
    ['SELECT SUM(x) FILTER (WHERE y > 0) FROM t', 'FILTER'],
    ['SELECT DISTINCT ON (patient_id) patient_id, band FROM t', 'ON'],
    ['SELECT * FROM a ANTI JOIN b ON a.id = b.id', 'ANTI'],
    ['SELECT * FROM a LEFT SEMI JOIN b ON a.id = b.id', 'SEMI'],
    ['SELECT * FROM a POSITIONAL JOIN b', 'POSITIONAL'],
    ['SELECT * FROM a ASOF JOIN b ON a.id = b.id AND a.t >= b.t', 'ASOF'],
    ["SELECT * FROM t WHERE name GLOB 'a*'", 'GLOB'],
    ["SELECT * FROM t WHERE name NOT GLOB 'a*'", 'GLOB'],
    ["SELECT * FROM t WHERE name SIMILAR TO 'a.*'", 'SIMILAR'],
    ['SELECT * FROM t LIMIT 10%', '%'],
    ['SELECT * FROM t LIMIT 10 PERCENT', 'PERCENT'],
    ['SELECT CURRENT_TIMESTAMP - INTERVAL 1 DAY', '1'],
    ['SELECT * FROM t WHERE at > CURRENT_TIMESTAMP - INTERVAL (3) HOUR', '('],
  ])('DuckDB-only: %s', (q, unexpected) => {
    const e = refused(q);
    expect(e).toMatchObject({ code: '001003', sqlState: '42000' });
    expect(e.message).toContain(`unexpected '${unexpected}'`);
  });

  test("Snowflake's own ASOF JOIN … MATCH_CONDITION is Snowflake, but not emulated", () => {
    expect(refused('SELECT * FROM a ASOF JOIN b MATCH_CONDITION (a.t >= b.t) ON a.id = b.id').code).toBe('000002');
  });

  test.each([
    ["SELECT * FROM '/etc/passwd'", "'/etc/passwd'"],
    ["SELECT * FROM t JOIN 'x.csv' ON TRUE", "'x.csv'"],
    ["SELECT * FROM t, '/etc/hosts'", "'/etc/hosts'"],
    ["SELECT * FROM (SELECT * FROM 'data.parquet')", "'data.parquet'"],
    ["INSERT INTO '/tmp/out.csv' SELECT 1", "'/tmp/out.csv'"],
    ["DELETE FROM t USING '/tmp/x.csv' WHERE TRUE", "'/tmp/x.csv'"],
  ])('a string literal where a table belongs is a syntax error: %s', (q, unexpected) => {
    const e = refused(q);
    expect(e).toMatchObject({ code: '001003', sqlState: '42000' });
    expect(e.message).toContain(`unexpected '${unexpected}'`);
  });

  test.each([['SELECT * FROM "/etc/passwd"'], ['SELECT * FROM "data.csv"'], ['SELECT * FROM t JOIN "s3://bucket/x.parquet" u ON TRUE'], ['SELECT * FROM public."~/notes.txt"']])(
    'a file-like quoted name is never a table: %s',
    (q) => {
      expect(refused(q)).toMatchObject({ code: '002003', sqlState: '42S02' });
    },
  );

  test('strings elsewhere are still strings', () => {
    expect(one("SELECT '/etc/passwd' AS p, 'a.csv' FROM t WHERE x IN ('a', 'b')")).toBe("SELECT '/etc/passwd' AS P, 'a.csv' FROM T WHERE X IN ('a', 'b')");
    expect(one(`SELECT CURRENT_TIMESTAMP - INTERVAL '1 DAY'`)).toBe(`SELECT current_timestamp - INTERVAL '1 DAY'`);
    expect(one('SELECT filter, glob FROM t')).toBe('SELECT FILTER, GLOB FROM T');
  });

  test('Snowflake statements that are not emulated say so', () => {
    expect(refused('COPY INTO t FROM @stage').code).toBe('000002');
    expect(refused('SELECT TOP 5 * FROM t').code).toBe('000002');
    expect(refused('ALTER SESSION SET AUTOCOMMIT = FALSE').code).toBe('000002');
  });

  test('more than one statement needs MULTI_STATEMENT_COUNT, which is not supported', () => {
    expect(refused('SELECT 1; SELECT 2')).toMatchObject({ code: '000008' });
    expect(one('SELECT 1;')).toBe('SELECT 1');
  });
});

describe('valid Snowflake that must not be refused', () => {
  test('a VALUES derived table with column aliases', () => {
    expect(one('SELECT a FROM (VALUES (1), (2)) v(a)')).toBe('SELECT A FROM (VALUES (1), (2)) V (A)');
    expect(one('SELECT v.a, v.b FROM (VALUES (1, 2)) AS v (a, b)')).toBe('SELECT V.A, V.B FROM (VALUES (1, 2)) AS V (A, B)');
    expect(one('SELECT x FROM (SELECT 1) s(x) JOIN (VALUES (1)) u(y) ON s.x = u.y')).toBe('SELECT X FROM (SELECT 1) S (X) JOIN (VALUES (1)) U (Y) ON S.X = U.Y');
  });

  test('GROUP BY CUBE, ROLLUP and GROUPING SETS', () => {
    expect(one('SELECT band, unit, COUNT(*) AS n FROM t GROUP BY CUBE (band, unit)')).toBe('SELECT BAND, UNIT, count(*) AS N FROM T GROUP BY CUBE (BAND, UNIT)');
    expect(one('SELECT band, COUNT(*) AS n FROM t GROUP BY ROLLUP (band)')).toBe('SELECT BAND, count(*) AS N FROM T GROUP BY ROLLUP (BAND)');
    expect(one('SELECT band, unit, GROUPING(band) AS g FROM t GROUP BY GROUPING SETS ((band), (unit), ())')).toBe(
      'SELECT BAND, UNIT, grouping(BAND) AS G FROM T GROUP BY GROUPING SETS ((BAND), (UNIT), ())',
    );
  });
});

describe('statements handled by the server itself', () => {
  test.each([
    ['BEGIN', 'begin'],
    ['BEGIN TRANSACTION', 'begin'],
    ['START TRANSACTION', 'begin'],
    ['BEGIN WORK', 'begin'],
    ['COMMIT', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['USE SCHEMA ehr.public', 'use'],
    ['USE WAREHOUSE wh', 'use'],
    ["ALTER SESSION SET QUERY_TAG = 'sink'", 'alterSession'],
    ['SHOW TABLES', 'showTables'],
    ['DESCRIBE TABLE severity_scores', 'describeTable'],
    ['DESC TABLE ehr.public.severity_scores', 'describeTable'],
  ])('%s', (q, kind) => {
    const t = translate(q);
    expect(t.kind).toBe('command');
    if (t.kind === 'command') expect(t.command.kind).toBe(kind);
  });
});

describe('array binds', () => {
  test('INSERT … VALUES becomes one set-based INSERT over all bind rows', () => {
    const t = sql('INSERT INTO t (a, b) VALUES (?, UPPER(?))');
    const form = finalizeParams(t.arrayForm!(['VARCHAR', 'VARCHAR']));
    expect(form).toBe(
      'INSERT INTO T (A, B) SELECT __SF_BINDS.P1, upper(__SF_BINDS.P2) FROM (SELECT CAST(U1 AS VARCHAR) AS P1, CAST(U2 AS VARCHAR) AS P2 FROM (SELECT UNNEST($1::VARCHAR[]) AS U1, UNNEST($2::VARCHAR[]) AS U2)) AS __SF_BINDS',
    );
  });

  test('MERGE … USING (SELECT ?, …) reads the bind rows as its source', () => {
    const t = sql('MERGE INTO t USING (SELECT ? AS id, ? AS n) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET n = s.n WHEN NOT MATCHED THEN INSERT (id, n) VALUES (s.id, s.n)');
    expect(t.merge).toEqual({ insert: true, update: true, delete: false });
    expect(finalizeParams(t.arrayForm!(['VARCHAR', 'BIGINT']))).toContain('FROM (SELECT CAST(U1 AS VARCHAR) AS P1, CAST(U2 AS BIGINT) AS P2');
  });

  test('binds outside one row producer run per row (no set-based form)', () => {
    expect(sql('UPDATE t SET n = ? WHERE id = ?').arrayForm).toBeUndefined();
    expect(sql('INSERT INTO t SELECT a FROM u WHERE b = ?').arrayForm).toBeUndefined();
    expect(sql('INSERT INTO t VALUES (?), (?)').arrayForm).toBeUndefined();
  });
});
