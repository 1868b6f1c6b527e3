import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify, type Stringifier } from 'csv-stringify';
import { labelGrid } from '../labels.js';
import type { CohortEvent, CohortMeta, Label, PatientRecord } from '../types.js';
import { COLUMNS, EVENT_FILES, eventToRow, fileOf, FILES, labelToRow, patientToRow, type EventFile, type Row } from './format.js';

export interface WriteCohortInput {
  meta: CohortMeta;
  patients: readonly PatientRecord[];
  /** In stream order; written in that order, numbered by `seq`. */
  events: Iterable<CohortEvent> | AsyncIterable<CohortEvent>;
  /** Default: the hourly grid from `labelGrid` with the meta's horizon. */
  labels?: readonly Label[];
}

export interface WriteCohortResult {
  dir: string;
  rows: Record<'patients' | 'labels' | EventFile, number>;
}

class CsvFile {
  private readonly csv: Stringifier;
  private readonly out: WriteStream;
  private readonly done: Promise<unknown>;
  rows = 0;
  constructor(path: string, columns: readonly string[]) {
    this.csv = stringify({ header: true, columns: [...columns], eof: true });
    this.out = createWriteStream(path);
    this.csv.pipe(this.out);
    this.done = once(this.out, 'finish');
  }
  async write(row: Row): Promise<void> {
    this.rows++;
    if (!this.csv.write(row)) await once(this.csv, 'drain');
  }
  async close(): Promise<void> {
    this.csv.end();
    await this.done;
  }
}

/** Writes a cohort as CSV files (see README.md); the same input always gives the same bytes. */
export async function writeCohort(dir: string, input: WriteCohortInput): Promise<WriteCohortResult> {
  await mkdir(dir, { recursive: true });
  const eventFiles = Object.fromEntries(EVENT_FILES.map((f) => [f, new CsvFile(join(dir, FILES[f]), COLUMNS[f])])) as Record<EventFile, CsvFile>;
  let seq = 0;
  try {
    for await (const record of input.events) {
      await eventFiles[fileOf(record.event)].write(eventToRow(record, seq++));
    }
  } finally {
    for (const f of Object.values(eventFiles)) await f.close();
  }

  const patients = new CsvFile(join(dir, FILES.patients), COLUMNS.patients);
  for (const p of input.patients) await patients.write(patientToRow(p));
  await patients.close();

  const labelRows = input.labels ?? labelGrid(input.patients, { end: input.meta.end, horizonHours: input.meta.horizonHours, stepHours: input.meta.labelStepHours });
  const labels = new CsvFile(join(dir, FILES.labels), COLUMNS.labels);
  for (const l of labelRows) await labels.write(labelToRow(l));
  await labels.close();

  await writeFile(join(dir, FILES.meta), `${JSON.stringify(input.meta, null, 2)}\n`);
  return {
    dir,
    rows: {
      patients: patients.rows,
      labels: labels.rows,
      ...(Object.fromEntries(EVENT_FILES.map((f) => [f, eventFiles[f].rows])) as Record<EventFile, number>),
    },
  };
}
