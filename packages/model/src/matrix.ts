// Input matrices: an array of rows, or a dense row-major Float64Array (NaN = missing).
import { MISSING_SENTINEL } from './missing.js';

export interface DenseMatrix {
  rows: number;
  cols: number;
  /** Row-major values; NaN (or anything <= MISSING_SENTINEL) = missing. */
  data: Float64Array;
}

export type MatrixInput = DenseMatrix | readonly ArrayLike<number | null | undefined>[];

export function isDense(x: MatrixInput): x is DenseMatrix {
  return !Array.isArray(x) && typeof (x as DenseMatrix).rows === 'number' && (x as DenseMatrix).data instanceof Float64Array;
}

/** Column-major values: columns[f * rows + i]; missing = MISSING_SENTINEL. */
export interface ColumnMatrix {
  rows: number;
  cols: number;
  columns: Float64Array;
}

/** Column-major copy with missing → MISSING_SENTINEL. */
/**
 * An infinite value is no measurement (NaN, null and undefined are missing): kept, it became a
 * split threshold, and the finished forest was refused when sealed, naming no row or column.
 */
const infinite = (row: number, column: number) => new RangeError(`training matrix row ${row}, column ${column}: an infinite value (a measurement is finite; a missing one is NaN or null)`);

export function toColumnMajor(x: MatrixInput): ColumnMatrix {
  if (isDense(x)) {
    const { rows, cols, data } = x;
    if (data.length !== rows * cols) throw new RangeError(`dense matrix: data has ${data.length} values, expected ${rows}×${cols}`);
    const columns = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let f = 0; f < cols; f++) {
        const v = data[i * cols + f]!;
        if (v === Infinity || v === -Infinity) throw infinite(i, f);
        columns[f * rows + i] = v > MISSING_SENTINEL ? v : MISSING_SENTINEL;
      }
    }
    return { rows, cols, columns };
  }
  const arr = x;
  const rows = arr.length;
  if (rows === 0) throw new RangeError('training matrix has no rows');
  const cols = arr[0]!.length;
  const columns = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = arr[i]!;
    if (r.length !== cols) throw new RangeError(`row ${i} has ${r.length} values, row 0 has ${cols}`);
    for (let f = 0; f < cols; f++) {
      const v = r[f];
      if (v === Infinity || v === -Infinity) throw infinite(i, f);
      columns[f * rows + i] = v === null || v === undefined || !(v > MISSING_SENTINEL) ? MISSING_SENTINEL : v;
    }
  }
  return { rows, cols, columns };
}

/** Row-major Float64Array (missing → MISSING_SENTINEL) of selected rows of a column-major matrix. */
export function rowsFromColumns(columns: Float64Array, rows: number, cols: number, select: ArrayLike<number>): Float64Array {
  const out = new Float64Array(select.length * cols);
  for (let k = 0; k < select.length; k++) {
    const i = select[k]!;
    for (let f = 0; f < cols; f++) out[k * cols + f] = columns[f * rows + i]!;
  }
  return out;
}

/** The selected rows of a column-major matrix, still column-major. */
export function selectRows(m: ColumnMatrix, select: ArrayLike<number>): ColumnMatrix {
  const rows = select.length;
  const columns = new Float64Array(rows * m.cols);
  for (let f = 0; f < m.cols; f++) {
    const src = f * m.rows;
    const dst = f * rows;
    for (let k = 0; k < rows; k++) columns[dst + k] = m.columns[src + select[k]!]!;
  }
  return { rows, cols: m.cols, columns };
}
