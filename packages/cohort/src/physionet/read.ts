// The PhysioNet/CinC 2019 data as a stay table: the packed parquet (one row per
// patient-hour) or the Challenge's own form, a directory of pipe-separated `.psv` files
// (one per stay, `NaN` for missing, columns found by header in any order). Values stay
// numbers here; events.ts turns a stay into raw events.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { KNOWN_COLUMNS, LABEL_COLUMN, TABLE_COLUMNS, TIME_COLUMN_BOUNDS } from './columns.js';

/** Where the data lives beside a checkout (relative to the repository root), unless PHYSIONET_PATH says otherwise. */
export const PHYSIONET_RELATIVE_DIR = '../shared/data/physionet-2019-sepsis';
export const PHYSIONET_PARQUET_NAME = 'physionet2019_setB_train.parquet';
export const PHYSIONET_RELATIVE_PATH = `${PHYSIONET_RELATIVE_DIR}/${PHYSIONET_PARQUET_NAME}`;

export interface PhysioNetStay {
  patientId: string;
  /** Rows [start, end) of the table. */
  start: number;
  end: number;
}

export interface PhysioNetTable {
  source: { kind: 'parquet' | 'psv'; path: string; sha256: string; files: number };
  rows: number;
  /** Column → every row's value (NaN = missing); a stay's rows are contiguous, in hour order. */
  columns: ReadonlyMap<string, Float64Array>;
  stays: PhysioNetStay[];
  /** Columns in the files that the mapping does not know (reported, not used). */
  unknownColumns: string[];
  /** Known columns absent from every file (all missing). */
  missingColumns: string[];
  /** False when no file has SepsisLabel (then the data can be scored, not evaluated). */
  hasLabels: boolean;
  /** Cells that held something other than a number or missing (`36,9`, `abc`): read as missing, and reported. */
  unreadableCells: UnreadableCells[];
}

/** The cells of one column of one file that could not be read as numbers. */
export interface UnreadableCells {
  file: string;
  column: string;
  count: number;
  /** Where the first one is: `line 3` of a .psv, `row index 2` of the parquet. */
  first: string;
  /** The first one's text, as in the file (cut to 40 characters). */
  example: string;
}

export interface ReadPhysioNetOptions {
  /** Called with each warning line (unknown or missing columns, cells that are not numbers). */
  warn?: (message: string) => void;
}

/** Files named one by one in the warnings about unreadable cells; the rest are summed up (all are in the table). */
const UNREADABLE_FILES_WARNED = 10;

/** Reads a packed parquet file, a directory of `.psv` files, or one `.psv` file. */
export async function readPhysioNet(path: string, options: ReadPhysioNetOptions = {}): Promise<PhysioNetTable> {
  if (!existsSync(path)) throw new Error(`PhysioNet data not found: ${path}`);
  // The shared directory holds the packed parquet beside psv-sample/: mean the parquet.
  if (statSync(path).isDirectory() && existsSync(join(path, PHYSIONET_PARQUET_NAME))) path = join(path, PHYSIONET_PARQUET_NAME);
  const table = statSync(path).isDirectory() || path.toLowerCase().endsWith('.psv') ? await readPsv(path) : await readParquet(path);
  if (table.unknownColumns.length > 0) {
    options.warn?.(`${path}: ${table.unknownColumns.length} column(s) the PhysioNet mapping does not know, not used: ${table.unknownColumns.join(', ')}`);
  }
  if (table.missingColumns.length > 0) options.warn?.(`${path}: column(s) absent, read as missing: ${table.missingColumns.join(', ')}`);
  if (options.warn) warnUnreadable(table.unreadableCells, options.warn);
  return table;
}

/** One warning per file with cells that are not numbers (up to UNREADABLE_FILES_WARNED files, then a count of the rest). */
function warnUnreadable(cells: readonly UnreadableCells[], warn: (message: string) => void): void {
  const byFile = new Map<string, UnreadableCells[]>();
  for (const c of cells) {
    const list = byFile.get(c.file) ?? [];
    list.push(c);
    byFile.set(c.file, list);
  }
  let shown = 0;
  for (const [file, list] of byFile) {
    if (shown++ === UNREADABLE_FILES_WARNED) {
      warn(`${byFile.size - UNREADABLE_FILES_WARNED} more file(s) with cells that are not numbers, read as missing (listed in unreadableCells)`);
      return;
    }
    const total = list.reduce((n, c) => n + c.count, 0);
    warn(`${file}: ${total} cell(s) that are not numbers, read as missing: ${list.map((c) => `${c.column} ×${c.count} (first at ${c.first}: ${JSON.stringify(c.example)})`).join(', ')}`);
  }
}

/** Unreadable cells by file and column, each with its first place and text. */
class UnreadableTally {
  readonly list: UnreadableCells[] = [];
  private readonly byKey = new Map<string, UnreadableCells>();

  add(file: string, column: string, first: string, text: string): void {
    const key = `${file}\u0000${column}`;
    const known = this.byKey.get(key);
    if (known) {
      known.count++;
      return;
    }
    const entry = { file, column, count: 1, first, example: text.slice(0, 40) };
    this.byKey.set(key, entry);
    this.list.push(entry);
  }
}

/**
 * For a time column (ICULOS, HospAdmTime): a check that throws, naming the place, when a
 * value is one no stay can have (NaN, missing, passes). Null for the other columns.
 */
function timeCheck(column: string): ((value: number, where: () => string) => void) | null {
  const bounds = TIME_COLUMN_BOUNDS.get(column);
  if (!bounds) return null;
  return (value, where) => {
    if (value < bounds.min || value > bounds.max) throw new Error(`${where()}: ${column} ${value} is out of range (${bounds.meaning})`);
  };
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

async function readParquet(path: string): Promise<PhysioNetTable> {
  const file = await asyncBufferFromFile(path);
  const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  await parquetRead({
    file,
    compressors,
    onChunk: (chunk) => {
      const list = chunks.get(chunk.columnName) ?? [];
      list.push({ rowStart: chunk.rowStart, data: chunk.columnData });
      chunks.set(chunk.columnName, list);
    },
  });
  const ids = chunks.get('patient_id');
  if (!ids) throw new Error(`${path}: no patient_id column (is this the PhysioNet parquet? A MEDS file has subject_id)`);
  let rows = 0;
  for (const c of ids) rows = Math.max(rows, c.rowStart + c.data.length);
  const patientOfRow: string[] = new Array<string>(rows);
  for (const c of ids) for (let i = 0; i < c.data.length; i++) patientOfRow[c.rowStart + i] = String(c.data[i]);
  const unreadable = new UnreadableTally();
  const numeric = (name: string): Float64Array | null => {
    const list = chunks.get(name);
    if (!list) return null;
    const out = new Float64Array(rows).fill(NaN);
    const check = timeCheck(name);
    for (const c of list) {
      for (let i = 0; i < c.data.length; i++) {
        const v = c.data[i];
        const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
        // null is missing; a string or a boolean is a value that is not a number.
        if (v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'bigint') unreadable.add(path, name, `row index ${c.rowStart + i}`, typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v));
        check?.(n, () => `${path}: row index ${c.rowStart + i}`);
        out[c.rowStart + i] = n;
      }
    }
    return out;
  };
  // Stays in first-seen order, rows of a stay by hour (the file is sorted that way; this keeps it so if not).
  const hour = numeric('hour') ?? Float64Array.from({ length: rows }, (_, i) => i);
  const firstSeen = new Map<string, number>();
  for (let i = 0; i < rows; i++) if (!firstSeen.has(patientOfRow[i]!)) firstSeen.set(patientOfRow[i]!, firstSeen.size);
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < rows && sorted; i++) {
    const a = firstSeen.get(patientOfRow[i - 1]!)!;
    const b = firstSeen.get(patientOfRow[i]!)!;
    if (b < a || (a === b && hour[i]! < hour[i - 1]!)) sorted = false;
  }
  if (!sorted) order.sort((a, b) => firstSeen.get(patientOfRow[a]!)! - firstSeen.get(patientOfRow[b]!)! || hour[a]! - hour[b]! || a - b);
  const columns = new Map<string, Float64Array>();
  const missingColumns: string[] = [];
  for (const name of TABLE_COLUMNS) {
    const values = numeric(name);
    if (!values) missingColumns.push(name);
    columns.set(name, values ? (sorted ? values : Float64Array.from(order, (i) => values[i]!)) : new Float64Array(rows).fill(NaN));
  }
  const stays: PhysioNetStay[] = [];
  for (let k = 0; k < rows; k++) {
    const id = patientOfRow[order[k]!]!;
    const last = stays[stays.length - 1];
    if (last && last.patientId === id) last.end = k + 1;
    else stays.push({ patientId: id, start: k, end: k + 1 });
  }
  const unknownColumns = [...chunks.keys()].filter((c) => !KNOWN_COLUMNS.has(c));
  return {
    source: { kind: 'parquet', path, sha256: await sha256File(path), files: 1 },
    rows,
    columns,
    stays,
    unknownColumns,
    missingColumns,
    hasLabels: !missingColumns.includes(LABEL_COLUMN),
    unreadableCells: unreadable.list,
  };
}

/** Grows per-column Float64Arrays as stays are appended. */
class ColumnBuilder {
  rows = 0;
  private capacity = 4096;
  readonly data = new Map<string, Float64Array>(TABLE_COLUMNS.map((c) => [c, new Float64Array(4096).fill(NaN)]));

  reserve(extra: number): void {
    if (this.rows + extra <= this.capacity) return;
    while (this.rows + extra > this.capacity) this.capacity *= 2;
    for (const [name, old] of this.data) {
      const grown = new Float64Array(this.capacity).fill(NaN);
      grown.set(old.subarray(0, this.rows));
      this.data.set(name, grown);
    }
  }

  finish(): Map<string, Float64Array> {
    return new Map([...this.data].map(([name, a]) => [name, a.slice(0, this.rows)]));
  }
}

/** A value of a .psv cell: a number, NaN when missing (`NaN` or empty), null when it is not a number (`36,9`, `abc`). */
function cell(text: string): number | null {
  const t = text.trim();
  if (t === '' || t === 'NaN' || t === 'nan') return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** The lines of a file that are not blank, with their line numbers (1-based), so errors can name them. */
function numberedLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((t, i) => {
    if (t.trim() !== '') out.push({ line: i + 1, text: t });
  });
  return out;
}

async function readPsv(path: string): Promise<PhysioNetTable> {
  const isDir = statSync(path).isDirectory();
  const files = isDir ? (await readdir(path)).filter((f) => f.toLowerCase().endsWith('.psv')).sort() : [basename(path)];
  if (files.length === 0) throw new Error(`${path}: no .psv files`);
  const dir = isDir ? path : join(path, '..');
  const builder = new ColumnBuilder();
  const stays: PhysioNetStay[] = [];
  const unknown = new Set<string>();
  const seen = new Set<string>();
  const unreadable = new UnreadableTally();
  const hash = createHash('sha256');
  for (const name of files) {
    const file = join(dir, name);
    const bytes = await readFile(file);
    hash.update(name).update('\u0000').update(bytes);
    const lines = numberedLines(bytes.toString('utf8').replace(/^\uFEFF/, ''));
    if (lines.length === 0) continue;
    const header = lines[0]!.text.split('|').map((h) => h.trim());
    for (const h of header) {
      if (KNOWN_COLUMNS.has(h)) seen.add(h);
      else unknown.add(h);
    }
    const n = lines.length - 1;
    builder.reserve(n);
    // After reserve: growing replaces the arrays.
    const targets = header.map((h) => builder.data.get(h) ?? null);
    const checks = header.map(timeCheck);
    for (let r = 0; r < n; r++) {
      const { line, text } = lines[r + 1]!;
      const parts = text.split('|');
      for (let c = 0; c < header.length; c++) {
        const column = targets[c];
        if (!column) continue;
        // A short row's absent fields are not missing values: the line is cut or mis-separated.
        const raw = parts[c];
        const v = raw === undefined ? null : cell(raw);
        if (v === null) unreadable.add(file, header[c]!, `line ${line}`, raw ?? '(no field)');
        else checks[c]?.(v, () => `${file}:${line}`);
        column[builder.rows + r] = v ?? NaN;
      }
    }
    stays.push({ patientId: name.replace(/\.psv$/i, ''), start: builder.rows, end: builder.rows + n });
    builder.rows += n;
  }
  const missingColumns = TABLE_COLUMNS.filter((c) => !seen.has(c));
  return {
    source: { kind: 'psv', path, sha256: hash.digest('hex'), files: files.length },
    rows: builder.rows,
    columns: builder.finish(),
    stays,
    unknownColumns: [...unknown],
    missingColumns,
    hasLabels: seen.has(LABEL_COLUMN),
    unreadableCells: unreadable.list,
  };
}

/** Column names of a parquet file (to tell the PhysioNet layout from MEDS without reading the data). */
export async function parquetColumnNames(path: string): Promise<string[]> {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
  return meta.schema.slice(1).map((s) => s.name);
}
