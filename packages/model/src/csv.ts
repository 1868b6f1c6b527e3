// The training CSV interface: a header row, numeric feature columns, the last column
// `label` (0/1). An empty cell (or NA/NaN/null) is a missing value. Feature values are
// parsed with Number(); anything else non-numeric is an error naming row and column.
import { readFile } from 'node:fs/promises';
import type { DenseMatrix } from './matrix.js';

export interface CsvDataset {
  featureNames: string[];
  X: DenseMatrix;
  y: Uint8Array;
}

const MISSING_TOKENS = new Set(['', 'NA', 'NaN', 'nan', 'null', 'NULL']);

export function parseTrainingCsv(text: string, source = 'csv'): CsvDataset {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new Error(`${source}: needs a header row and at least one data row`);
  const header = lines[0]!.split(',').map((h) => h.trim());
  if (header[header.length - 1] !== 'label') throw new Error(`${source}: the last column must be 'label', got '${header[header.length - 1]}'`);
  const cols = header.length - 1;
  const seen = new Set<string>();
  header.slice(0, cols).forEach((name, f) => {
    if (name === '') throw new Error(`${source}: column ${f + 1} of the header has no name`);
    if (seen.has(name)) throw new Error(`${source}: the header names '${name}' twice`);
    seen.add(name);
  });
  const rows = lines.length - 1;
  const data = new Float64Array(rows * cols);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const cells = lines[i + 1]!.split(',');
    if (cells.length !== cols + 1) throw new Error(`${source}: line ${i + 2} has ${cells.length} cells, the header has ${cols + 1}`);
    for (let f = 0; f < cols; f++) {
      const cell = cells[f]!.trim();
      if (MISSING_TOKENS.has(cell)) {
        data[i * cols + f] = NaN;
        continue;
      }
      const v = Number(cell);
      if (!Number.isFinite(v)) throw new Error(`${source}: line ${i + 2}, column '${header[f]}': '${cell}' is not a number`);
      data[i * cols + f] = v;
    }
    const label = cells[cols]!.trim();
    if (label !== '0' && label !== '1') throw new Error(`${source}: line ${i + 2}: label must be 0 or 1, got '${label}'`);
    y[i] = label === '1' ? 1 : 0;
  }
  return { featureNames: header.slice(0, cols), X: { rows, cols, data }, y };
}

export async function readTrainingCsv(path: string): Promise<CsvDataset> {
  return parseTrainingCsv(await readFile(path, 'utf8'), path);
}
