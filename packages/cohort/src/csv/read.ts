import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
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
  /**
   * Where a row that cannot be read goes (a value that is not a number, an event that fails
   * its schema, a field too many, a stray quote), awaited, and the read goes on with the
   * next row. Without it (the default) such a row ends the read with a CohortFormatError
   * naming the file and line. A file csv-parse cannot go on reading (a quote never closed,
   * a row over MAX_ROW_BYTES) fails either way, naming the file and line.
   */
  onRejectedRow?: (rejection: CohortRowRejection) => void | Promise<void>;
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

/**
 * A row the reader could not take: its bytes are not a row of the header's columns
 * (`unparseable`), or its values are not a valid event, patient or label (`invalid`).
 */
export interface CohortRowRejection {
  /** The file's path. */
  file: string;
  /** The line the row starts on (the header is line 1). */
  line: number;
  /** The line it ends on: more than `line` for a quoted field with line breaks, or rows run together by a stray quote. */
  endLine: number;
  kind: 'unparseable' | 'invalid';
  /** Why, without the file and line (at most MAX_REJECTION_REASON_CHARS). */
  reason: string;
  /** The row as written, its first MAX_REJECTED_ROW_CHARS characters. */
  raw: string;
  /** How many characters the row had (more than `raw` holds when it was cut). */
  rawLength: number;
  /** What could be read of its ids (`patient_id`, `event_id`), for the audit trail. */
  patientId: string | null;
  eventId: string | null;
}

export const MAX_REJECTED_ROW_CHARS = 2000;
export const MAX_REJECTION_REASON_CHARS = 1000;
/**
 * Largest row the reader takes, in bytes. A file without line breaks (or a field whose
 * quote never closes) would otherwise be held in memory whole; past this the file fails
 * naming the line, since csv-parse cannot go on reading rows after it.
 */
export const MAX_ROW_BYTES = 8 * 1024 * 1024;
/** Most unreadable rows held between two good ones (each at most a few KiB: MAX_REJECTED_ROW_CHARS). */
export const MAX_PENDING_REJECTIONS = 10_000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** A record's text as written: without the blank lines before it or the line break that ends it. */
const rowText = (raw: string) => raw.replace(/^[\r\n]+/, '').replace(/(?:\r\n|\r|\n)$/, '');
/** csv-parse counts lines up to the end of a record (each CR and LF of a CRLF inside quotes as one): where it starts. */
const startLine = (endLine: number, raw: string) => endLine - (rowText(raw).match(/[\r\n]/g)?.length ?? 0);

function rejection(file: string, line: number, endLine: number, kind: CohortRowRejection['kind'], reason: string, raw: string, row?: Row): CohortRowRejection {
  const text = rowText(raw);
  const id = (v: string | undefined) => (v ? v.slice(0, 256) : null);
  return {
    file,
    line,
    endLine,
    kind,
    reason: clip(reason, MAX_REJECTION_REASON_CHARS),
    raw: text.slice(0, MAX_REJECTED_ROW_CHARS),
    rawLength: text.length,
    patientId: id(row?.patient_id),
    eventId: id(row?.event_id),
  };
}

type Item = { row: Row; line: number; endLine: number; raw: string; rejected?: never } | { rejected: CohortRowRejection };

/**
 * The rows of a file in order, and in their place each row csv-parse cannot read (a field
 * too many or too few, a stray quote): csv-parse skips it and goes on with the next row.
 * Where it cannot go on (a quote never closed, so the rest of the file is one field; a row
 * over MAX_ROW_BYTES) the file fails naming the line.
 */
async function* rows(path: string): AsyncGenerator<Item> {
  // Rejections wait here for the next good row (csv-parse hands rows over, not skips), read
  // from `head` (shift() is O(n) per call: quadratic on a file of bad rows). Bounded: rows
  // skipped with no good row between them get no backpressure from the reader, so past
  // MAX_PENDING_REJECTIONS the file is not a cohort file and fails, naming where.
  let skipped: CohortRowRejection[] = [];
  let head = 0;
  const take = (): CohortRowRejection => {
    const r = skipped[head++]!;
    if (head === skipped.length) {
      skipped = [];
      head = 0;
    }
    return r;
  };
  const onSkip = (err: CsvError | undefined, raw: string | undefined): undefined => {
    if (!err) return;
    const end = typeof err.lines === 'number' ? err.lines : 0;
    const text = raw ?? '';
    const line = startLine(end, text);
    // One record can be skipped for several errors (a bad closing quote, then its length): one rejection, with the first reason.
    const last = skipped.length > head ? skipped.at(-1) : undefined;
    const earlier = last?.line === line ? last : undefined;
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      const because = earlier ? `${earlier.reason}; ` : '';
      throw new CohortFormatError(path, line, clip(`${because}a quote opened in this row is never closed, so the rest of the file (lines ${line} to ${end}) cannot be read as rows`, MAX_REJECTION_REASON_CHARS));
    }
    if (err.code === 'CSV_MAX_RECORD_SIZE') throw new CohortFormatError(path, line, `a row of more than ${MAX_ROW_BYTES} bytes: the rest of the file cannot be read as rows`);
    const r = rejection(path, line, Math.max(end, earlier?.endLine ?? 0), 'unparseable', earlier?.reason ?? err.message, text);
    if (earlier) skipped[skipped.length - 1] = r;
    else if (skipped.length - head >= MAX_PENDING_REJECTIONS) throw new CohortFormatError(path, line, `more than ${MAX_PENDING_REJECTIONS} rows in a row that are not rows of the header's columns: not read further`);
    else skipped.push(r);
  };
  const parser = parse({
    columns: true,
    skip_empty_lines: true,
    relax_column_count: false,
    info: true,
    raw: true,
    max_record_size: MAX_ROW_BYTES,
    skip_records_with_error: true,
    on_skip: onSkip,
  });
  // pipeline: an error reading the file ends the parser too (a pipe would leave it waiting).
  pipeline(createReadStream(path), parser, () => {});
  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{ record: Row; info: { lines: number }; raw: string }>) {
      const line = startLine(info.lines, raw);
      while (skipped.length > head && skipped[head]!.line < line) yield { rejected: take() };
      yield { row: record, line, endLine: info.lines, raw };
    }
  } catch (err) {
    if (err instanceof CohortFormatError) throw err;
    const e = err as Partial<CsvError>;
    if (typeof e.lines === 'number') throw new CohortFormatError(path, e.lines, clip(String(e.message), MAX_REJECTION_REASON_CHARS));
    throw err;
  }
  while (skipped.length > head) yield { rejected: take() };
}

type OnRejected = ReadCohortOptions['onRejectedRow'];

/** A rejected row to the caller's handler, or (without one) the error that ends the read. */
async function reject(r: CohortRowRejection, onRejected: OnRejected): Promise<void> {
  if (!onRejected) throw new CohortFormatError(r.file, r.line, r.reason);
  await onRejected(r);
}

async function readAll<T>(path: string, map: (row: Row) => T, onRejected: OnRejected): Promise<T[]> {
  const out: T[] = [];
  if (!existsSync(path)) return out;
  for await (const item of rows(path)) {
    if (item.rejected) {
      await reject(item.rejected, onRejected);
      continue;
    }
    try {
      out.push(map(item.row));
    } catch (err) {
      await reject(rejection(path, item.line, item.endLine, 'invalid', (err as Error).message, item.raw, item.row), onRejected);
    }
  }
  return out;
}

type ReadOptions = Required<Pick<ReadCohortOptions, 'validate' | 'source' | 'withoutArtefacts'>> & Pick<ReadCohortOptions, 'onRejectedRow'>;

async function* fileEvents(dir: string, file: EventFile, options: ReadOptions): AsyncGenerator<{ record: CohortEvent; seq: number }> {
  const path = join(dir, FILES[file]);
  if (!existsSync(path)) return;
  for await (const item of rows(path)) {
    if (item.rejected) {
      await reject(item.rejected, options.onRejectedRow);
      continue;
    }
    const { row, line, endLine, raw } = item;
    let parsed: { record: CohortEvent; seq: number };
    try {
      parsed = rowToEvent(file, row, options.source);
    } catch (err) {
      await reject(rejection(path, line, endLine, 'invalid', (err as Error).message, raw, row), options.onRejectedRow);
      continue;
    }
    if (options.validate) {
      const v = validateRawEvent(parsed.record.event);
      if (!v.ok) {
        await reject(rejection(path, line, endLine, 'invalid', v.error, raw, row), options.onRejectedRow);
        continue;
      }
    }
    yield parsed;
  }
}

/**
 * The event files merged back into one stream by `seq` (files are each in stream order).
 * Files written by hand without `seq` are merged by delivery time, each file in time order.
 */
async function* merged(dir: string, options: ReadOptions): AsyncGenerator<CohortEvent> {
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
  const opts: ReadOptions = {
    validate: options.validate ?? true,
    source: options.source ?? (meta?.source === 'synthetic' ? 'synthetic' : 'csv'),
    withoutArtefacts: options.withoutArtefacts ?? false,
    ...(options.onRejectedRow ? { onRejectedRow: options.onRejectedRow } : {}),
  };
  const patients = await readAll(join(dir, FILES.patients), rowToPatient, opts.onRejectedRow);
  const labels = await readAll(join(dir, FILES.labels), rowToLabel, opts.onRejectedRow);

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
