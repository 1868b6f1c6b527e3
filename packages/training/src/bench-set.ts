// The benchmark's training set: a generated cohort through the real feature code, outcome
// labels, split by patient into exactly `rows` training rows and rows/4 test rows, written
// as CSVs any library can read (header, numeric features, empty = missing, last column
// `label`).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createRandom, type Random } from '@ehr/features';
import { buildDataset, type Dataset, type DatasetProgress } from './dataset.js';

export interface BenchSetOptions {
  /** Training rows (the test set gets ceil(rows / 4)). */
  rows: number;
  /** Keep the first n feature columns (default all). */
  features?: number;
  /** Cohort and split seed (default 7). */
  seed?: number;
  progress?: DatasetProgress;
}

export interface BenchPart {
  X: Float64Array;
  y: Uint8Array;
  rows: number;
  patients: number;
  positives: number;
}

export interface BenchSet {
  featureNames: string[];
  train: BenchPart;
  test: BenchPart;
  cohort: { patients: number; hours: number; seed: number };
  featureSeconds: number;
}

const COHORT_HOURS = 120;
/** Feature rows per patient of a 120-hour cohort, measured (≈ 560), a little under to over-generate. */
const ROWS_PER_PATIENT = 480;

/** `want` rows drawn at random (seeded) from the rows of `patients`, kept in stream order. */
function take(data: Dataset, patients: ReadonlySet<number>, want: number, cols: number, rng: Random): BenchPart {
  const pool: number[] = [];
  for (let i = 0; i < data.rows; i++) if (patients.has(data.patientOf[i]!)) pool.push(i);
  if (pool.length < want) throw new Error(`bench set: only ${pool.length} of ${want} rows`);
  for (let k = 0; k < want; k++) {
    const j = k + Math.floor(rng.next() * (pool.length - k));
    [pool[k], pool[j]] = [pool[j]!, pool[k]!];
  }
  const chosen = pool.slice(0, want).sort((a, b) => a - b);
  const X = new Float64Array(want * cols);
  const y = new Uint8Array(want);
  const used = new Set<number>();
  let positives = 0;
  chosen.forEach((i, k) => {
    for (let j = 0; j < cols; j++) X[k * cols + j] = data.X[i * data.cols + j]!;
    y[k] = data.y[i]!;
    positives += y[k];
    used.add(data.patientOf[i]!);
  });
  return { X, y, rows: want, patients: used.size, positives };
}

export async function buildBenchSet(options: BenchSetOptions): Promise<BenchSet> {
  const seed = options.seed ?? 7;
  const testRows = Math.ceil(options.rows / 4);
  const total = options.rows + testRows;
  // Enough patients for the rows, and for small sets at least ~1 patient per 25 rows, so a
  // few patients' correlated rows do not make the whole set.
  let patients = Math.max(20, Math.ceil(total / ROWS_PER_PATIENT), Math.min(150, Math.ceil(total / 25)));
  for (;;) {
    const data = await buildDataset({ kind: 'synthetic', seed, patients, hours: COHORT_HOURS }, undefined, options.progress);
    if (data.rows < total * 1.05) {
      patients = Math.ceil(patients * 1.5);
      continue;
    }
    const cols = Math.min(options.features ?? data.cols, data.cols);
    // Patients in a seeded order: the test side takes patients from the front until it holds
    // its share of the rows, the training side the rest; no patient has rows in both.
    const rng = createRandom(seed).fork('bench-split');
    const order = Array.from({ length: data.patients.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const count = new Map<number, number>();
    for (let i = 0; i < data.rows; i++) count.set(data.patientOf[i]!, (count.get(data.patientOf[i]!) ?? 0) + 1);
    const testShare = Math.max(testRows, Math.round((data.rows * testRows) / total));
    let cut = 0;
    for (let acc = 0; cut < order.length && acc < testShare; cut++) acc += count.get(order[cut]!) ?? 0;
    const test = take(data, new Set(order.slice(0, cut)), testRows, cols, rng.fork('test'));
    const train = take(data, new Set(order.slice(cut)), options.rows, cols, rng.fork('train'));
    return { featureNames: data.featureNames.slice(0, cols), train, test, cohort: { patients, hours: COHORT_HOURS, seed }, featureSeconds: data.stats.seconds };
  }
}

/** Writes header + rows (empty cell = missing) + label column. */
export async function writeBenchCsv(path: string, featureNames: readonly string[], part: BenchPart): Promise<void> {
  const out = createWriteStream(path);
  const cols = featureNames.length;
  out.write(`${[...featureNames, 'label'].join(',')}\n`);
  let chunk = '';
  for (let i = 0; i < part.rows; i++) {
    let line = '';
    for (let j = 0; j < cols; j++) {
      const v = part.X[i * cols + j]!;
      line += (Number.isNaN(v) ? '' : String(v)) + ',';
    }
    chunk += `${line}${part.y[i]}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
}

export async function writeBenchSet(dir: string, set: BenchSet): Promise<{ train: string; test: string }> {
  await mkdir(dir, { recursive: true });
  const train = join(dir, 'train.csv');
  const test = join(dir, 'test.csv');
  await writeBenchCsv(train, set.featureNames, set.train);
  await writeBenchCsv(test, set.featureNames, set.test);
  return { train, test };
}
