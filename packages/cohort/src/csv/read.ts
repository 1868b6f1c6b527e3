import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { validateRawEvent, type RawEvent } from '@ehr/features';
import { MinHeap } from '../merge.js';
import { toMs } from '../time.js';
import type { CohortEvent, CohortMeta, Label, PatientRecord } from '../types.js';
import { CohortFormatError, EVENT_FILES, FILES, rowToEvent, rowToLabel, rowToPatient, type EventFile, type Row } from './format.js';

export interface ReadCohortOptions {
  /**
   * `delivery` (default): the order the stream delivers them (by `seq`, i.e. event time
   * except for deliberately late or out-of-order events). `event`: sorted by event time
   * (stable), for whoever wants each patient's history as it happened.
   */
  order?: 'delivery' | 'event';
  /** Check every event against its schema and fail naming the file and line (default true). */
  validate?: boolean;
  /** Leave out rows marked as artefacts (default false: the stream has them). */
  withoutArtefacts?: boolean;
  /** The `source` of the events (default: cohort.json's, else `csv`). */
  source?: RawEvent['source'];
}

export interface CohortFiles {
  dir: string;
  meta: CohortMeta | null;
  patients: PatientRecord[];
  labels: Label[];
  /** Raw events; iterating again reads the files again. */
  events: AsyncIterable<RawEvent>;
  /** The same, with delivery time and artefact tag. */
  records: AsyncIterable<CohortEvent>;
}

async function* rows(path: string): AsyncGenerator<{ row: Row; line: number }> {
  const parser = createReadStream(path).pipe(parse({ columns: true, skip_empty_lines: true, relax_column_count: false, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) yield { row: record, line: info.lines };
}

async function readAll<T>(path: string, map: (row: Row) => T): Promise<T[]> {
  const out: T[] = [];
  if (!existsSync(path)) return out;
  for await (const { row, line } of rows(path)) {
    try {
      out.push(map(row));
    } catch (err) {
      throw new CohortFormatError(path, line, (err as Error).message);
    }
  }
  return out;
}

async function* fileEvents(dir: string, file: EventFile, options: Required<Pick<ReadCohortOptions, 'validate' | 'source'>>): AsyncGenerator<{ record: CohortEvent; seq: number }> {
  const path = join(dir, FILES[file]);
  if (!existsSync(path)) return;
  for await (const { row, line } of rows(path)) {
    let parsed: { record: CohortEvent; seq: number };
    try {
      parsed = rowToEvent(file, row, options.source);
    } catch (err) {
      throw new CohortFormatError(path, line, (err as Error).message);
    }
    if (options.validate) {
      const v = validateRawEvent(parsed.record.event);
      if (!v.ok) throw new CohortFormatError(path, line, v.error);
    }
    yield parsed;
  }
}

/**
 * The event files merged back into one stream by `seq` (files are each in stream order).
 * Files written by hand without `seq` are merged by delivery time, each file in time order.
 */
async function* merged(dir: string, options: Required<Pick<ReadCohortOptions, 'validate' | 'source' | 'withoutArtefacts'>>): AsyncGenerator<CohortEvent> {
  type Head = { seq: number; at: number; record: CohortEvent; it: AsyncIterator<{ record: CohortEvent; seq: number }>; file: number };
  const heap = new MinHeap<Head>((a, b) => a.seq < b.seq || (a.seq === b.seq && (a.at < b.at || (a.at === b.at && a.file < b.file))));
  const head = (value: { record: CohortEvent; seq: number }, it: Head['it'], file: number): Head => ({
    ...value,
    at: value.seq >= 0 ? 0 : Date.parse(value.record.availableAt),
    it,
    file,
  });
  const its = EVENT_FILES.map((f) => fileEvents(dir, f, options));
  try {
    for (const [file, it] of its.entries()) {
      const r = await it.next();
      if (!r.done) heap.push(head(r.value, it, file));
    }
    while (heap.size > 0) {
      const top = heap.pop()!;
      if (!(options.withoutArtefacts && top.record.artefact)) yield top.record;
      const r = await top.it.next();
      if (!r.done) heap.push(head(r.value, top.it, top.file));
    }
  } finally {
    for (const it of its) await it.return(undefined);
  }
}

/**
 * Reads a cohort directory written by `writeCohort` (or by hand, in the same format):
 * patients with their outcomes, the labels, and the events as one stream.
 */
export async function readCohort(dir: string, options: ReadCohortOptions = {}): Promise<CohortFiles> {
  const metaPath = join(dir, FILES.meta);
  const meta = existsSync(metaPath) ? (JSON.parse(await readFile(metaPath, 'utf8')) as CohortMeta) : null;
  if (!meta && !EVENT_FILES.some((f) => existsSync(join(dir, FILES[f])))) {
    throw new Error(`${dir}: not a cohort directory (no ${FILES.meta} and none of ${EVENT_FILES.map((f) => FILES[f]).join(', ')})`);
  }
  const opts = {
    validate: options.validate ?? true,
    source: options.source ?? (meta?.source === 'synthetic' ? 'synthetic' : 'csv'),
    withoutArtefacts: options.withoutArtefacts ?? false,
  } as const;
  const patients = await readAll(join(dir, FILES.patients), rowToPatient);
  const labels = await readAll(join(dir, FILES.labels), rowToLabel);

  const records: AsyncIterable<CohortEvent> =
    options.order === 'event'
      ? {
          async *[Symbol.asyncIterator]() {
            const all: { r: CohortEvent; t: number }[] = [];
            for await (const r of merged(dir, opts)) all.push({ r, t: toMs(r.event.occurredAt) });
            all.sort((a, b) => a.t - b.t);
            for (const { r } of all) yield r;
          },
        }
      : { [Symbol.asyncIterator]: () => merged(dir, opts) };
  const events: AsyncIterable<RawEvent> = {
    async *[Symbol.asyncIterator]() {
      for await (const r of records) yield r.event;
    },
  };
  return { dir, meta, patients, labels, events, records };
}
