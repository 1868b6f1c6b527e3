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
import { KNOWN_COLUMNS, LABEL_COLUMN, TABLE_COLUMNS } from './columns.js';

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
}

export interface ReadPhysioNetOptions {
  /** Called once with a warning line (unknown or missing columns). */
  warn?: (message: string) => void;
}

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
  return table;
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
  const numeric = (name: string): Float64Array | null => {
    const list = chunks.get(name);
    if (!list) return null;
    const out = new Float64Array(rows).fill(NaN);
    for (const c of list) {
      for (let i = 0; i < c.data.length; i++) {
        const v = c.data[i];
        out[c.rowStart + i] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
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

/** A value of a .psv cell: a number, or NaN for `NaN`, empty or anything unreadable. */
function cell(text: string | undefined): number {
  if (text === undefined) return NaN;
  const t = text.trim();
  if (t === '' || t === 'NaN' || t === 'nan') return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : NaN;
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
  const hash = createHash('sha256');
  for (const name of files) {
    const bytes = await readFile(join(dir, name));
    hash.update(name).update('\u0000').update(bytes);
    const lines = bytes.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const header = lines[0]!.split('|').map((h) => h.trim());
    for (const h of header) {
      if (KNOWN_COLUMNS.has(h)) seen.add(h);
      else unknown.add(h);
    }
    const n = lines.length - 1;
    builder.reserve(n);
    // After reserve: growing replaces the arrays.
    const targets = header.map((h) => builder.data.get(h) ?? null);
    for (let r = 0; r < n; r++) {
      const parts = lines[r + 1]!.split('|');
      for (let c = 0; c < header.length; c++) {
        const column = targets[c];
        if (column) column[builder.rows + r] = cell(parts[c]);
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
  };
}

/** Column names of a parquet file (to tell the PhysioNet layout from MEDS without reading the data). */
export async function parquetColumnNames(path: string): Promise<string[]> {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
  return meta.schema.slice(1).map((s) => s.name);
}
