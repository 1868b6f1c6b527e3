// What `npm start` keeps on disk when it stops before the in-memory bus is drained: every
// record a stage has not committed yet, per topic, so that the next `npm start` puts them
// back on the bus before any service starts and nothing accepted is lost. The file is
// gzipped JSON lines (a record: topic, key, value as base64, headers), written in partition
// and offset order so that each key's order survives; a stop that has to be quick (a
// second Ctrl-C) writes it synchronously.
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import type { BusRecord, MemoryBroker, OutgoingRecord } from '@ehr/bus';
import { errorMessage } from '@ehr/runtime';

/** One stage's input: the topic and the group whose commits say what has been done. */
export interface StageInput {
  stage: string;
  topic: string;
  groupId: string;
}

export interface SpoolReport {
  /** Records kept, by topic. */
  counts: Record<string, number>;
  total: number;
  /** Where they are (null when nothing had to be kept). */
  path: string | null;
  /** Resuming: the files that could not be read whole, moved aside. */
  damaged?: SpoolDamage[];
}

const SPOOL_FILE = 'pipeline-spool.jsonl.gz';
const RESUMED = /^pipeline-spool\.resumed-\d+\.jsonl\.gz$/;
const CHUNK = 5_000;

interface Line {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Writes every record the stages have not committed into `dir` (synchronously: a second
 * Ctrl-C must not wait on the event loop), replacing the spool files a start resumed from.
 */
export function writeSpool(broker: MemoryBroker, inputs: readonly StageInput[], dir: string): SpoolReport {
  const counts = Object.create(null) as Record<string, number>;
  const records: BusRecord[] = [];
  // A topic two groups read (the scores: the sink and alerting) is kept once: the records
  // either group has not committed, each once, in partition and offset order.
  const byTopic = new Map<string, Map<string, BusRecord>>();
  for (const { topic, groupId } of inputs) {
    let kept = byTopic.get(topic);
    if (!kept) byTopic.set(topic, (kept = new Map<string, BusRecord>()));
    for (const r of broker.uncommitted(topic, groupId)) kept.set(`${r.partition}:${r.offset}`, r);
  }
  for (const [topic, kept] of byTopic) {
    const left = [...kept.values()].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    counts[topic] = left.length;
    records.push(...left);
  }
  const total = records.length;
  let path: string | null = null;
  if (total > 0) {
    mkdirSync(dir, { recursive: true });
    path = join(dir, SPOOL_FILE);
    const partial = `${path}.partial`;
    const fd = openSync(partial, 'w');
    try {
      for (let i = 0; i < records.length; i += CHUNK) {
        writeMember(fd, records.slice(i, i + CHUNK).map((r) => JSON.stringify({ topic: r.topic, key: r.key, value: r.value.toString('base64'), headers: r.headers } satisfies Line)));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(partial, path);
  }
  for (const f of resumedFiles(dir)) rmSync(join(dir, f), { force: true });
  return { counts, total, path };
}

function resumedFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => RESUMED.test(f)) : [];
}

/**
 * Puts what the last stop kept back on the bus (before any service starts), in the order it
 * was kept. The file is renamed, not deleted: it goes once a stop has accounted for what is
 * in it (landed, or kept again), so a crash before then loses nothing either. A damaged file
 * (cut off, or a line that is not a record) must not stop every later start: its readable
 * records are resumed (and kept in a resumed file of their own), the file itself is moved
 * aside for a person to look at, and the report says what could not be read.
 */
export async function resumeSpool(broker: MemoryBroker, dir: string, partitions: number): Promise<SpoolReport> {
  const files = [...resumedFiles(dir), ...(existsSync(join(dir, SPOOL_FILE)) ? [SPOOL_FILE] : [])];
  const counts = Object.create(null) as Record<string, number>;
  let total = 0;
  const damaged: SpoolDamage[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const read = await putBack(broker, path, partitions, counts);
    total += read.kept;
    if (read.unreadable > 0 || read.truncated) damaged.push(await setAside(dir, path, read));
    else if (file === SPOOL_FILE) renameSync(path, unusedPath(dir, 'pipeline-spool.resumed-', '.jsonl.gz'));
  }
  return { counts, total, path: files.length > 0 ? dir : null, ...(damaged.length > 0 ? { damaged } : {}) };
}

/** What could not be read of a damaged spool file, and where it went. */
export interface SpoolDamage {
  /** The file as it was found. */
  file: string;
  /** Where it was moved; no start reads it again. */
  movedTo: string;
  /** Records read from it and resumed. */
  kept: number;
  /** Lines that are not a record. */
  unreadable: number;
  /** The gzip stream breaks off: how many lines followed is not known. */
  truncated: boolean;
  /** The first few problems, each `<file>:<line>: why`. */
  problems: string[];
}

/** One line for the terminal: what was damaged, what was resumed, what was not, and where the file is. */
export function describeSpoolDamage(d: SpoolDamage): string {
  const others = d.unreadable + (d.truncated ? 1 : 0) - 1;
  const more = others > 0 ? ` (and ${plural(others, 'more problem')})` : '';
  const lost = [d.unreadable > 0 ? `${plural(d.unreadable, 'line')} could not be read` : '', d.truncated ? 'the rest of the file could not be read' : ''].filter(Boolean).join(' and ');
  return `the spool is damaged: ${d.problems[0] ?? d.file}${more}. Resumed the ${plural(d.kept, 'record')} it could read; ${lost}. It is kept as ${d.movedTo}`;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-GB')} ${word}${n === 1 ? '' : 's'}`;

/** Problems kept per damaged file: enough to see what happened, not a line per record. */
const PROBLEMS_SHOWN = 5;

interface FileRead {
  kept: number;
  unreadable: number;
  truncated: boolean;
  problems: string[];
}

/** Appends a file's records to the broker, runs of one topic in one append each, in file order. */
async function putBack(broker: MemoryBroker, path: string, partitions: number, counts: Record<string, number>): Promise<FileRead> {
  const read: FileRead = { kept: 0, unreadable: 0, truncated: false, problems: [] };
  let batch: Line[] = [];
  const flush = () => {
    for (let i = 0; i < batch.length; ) {
      const topic = batch[i]!.topic;
      let j = i;
      while (j < batch.length && batch[j]!.topic === topic) j++;
      broker.createTopic({ topic, partitions });
      broker.append(topic, batch.slice(i, j).map((l) => ({ key: l.key ?? '', value: Buffer.from(l.value, 'base64'), headers: l.headers }) satisfies OutgoingRecord));
      i = j;
    }
    batch = [];
  };
  for await (const entry of entriesOf(path)) {
    if ('line' in entry) {
      batch.push(entry.line);
      counts[entry.line.topic] = (counts[entry.line.topic] ?? 0) + 1;
      read.kept++;
      if (batch.length >= CHUNK) flush();
      continue;
    }
    if (entry.truncated) read.truncated = true;
    else read.unreadable++;
    if (read.problems.length < PROBLEMS_SHOWN) read.problems.push(`${path}:${entry.number}: ${entry.problem}`);
  }
  flush();
  return read;
}

type Entry = { number: number; line: Line } | { number: number; problem: string; truncated: boolean };

/** A spool file's records, each line numbered; a line that is not a record, or a gzip stream that breaks off, says why. */
async function* entriesOf(path: string): AsyncGenerator<Entry> {
  const gunzip = createGunzip();
  // A read error reaches the lines below through the gunzip stream, which pipeline destroys with it.
  pipeline(createReadStream(path), gunzip, () => undefined);
  let number = 0;
  try {
    for await (const text of createInterface({ input: gunzip, crlfDelay: Infinity })) {
      number++;
      if (!text) continue;
      const line = parseLine(text);
      yield typeof line === 'string' ? { number, problem: line, truncated: false } : { number, line };
    }
  } catch (err) {
    yield { number: number + 1, problem: `cannot be read past here (${errorMessage(err)})`, truncated: true };
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A spool line's record, or why it is not one (the shape writeSpool writes). */
function parseLine(text: string): Line | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `not JSON (${errorMessage(err)})`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not a record (an object with topic, key, value, headers)';
  const { topic, key, value, headers = {} } = data as Record<string, unknown>;
  if (typeof topic !== 'string' || topic === '') return 'no topic (a non-empty string)';
  if (key !== null && typeof key !== 'string') return 'key is neither a string nor null';
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) return 'no value (base64 text)';
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers) || Object.values(headers).some((h) => typeof h !== 'string')) return 'headers are not an object of strings';
  return { topic, key, value, headers: headers as Record<string, string> };
}

/**
 * Writes what was readable in a damaged file to a resumed file of its own (those records are
 * on the bus now, and like any resumed record must survive a crash before the next stop),
 * then moves the file aside, never read again, for a person to look at. In that order: a
 * crash in between resumes some records twice (as any crash after a resume does) rather than none.
 */
async function setAside(dir: string, path: string, read: FileRead): Promise<SpoolDamage> {
  if (read.kept > 0) {
    const resumed = unusedPath(dir, 'pipeline-spool.resumed-', '.jsonl.gz');
    const fd = openSync(`${resumed}.partial`, 'w');
    try {
      let lines: string[] = [];
      for await (const entry of entriesOf(path)) {
        if ('line' in entry) lines.push(JSON.stringify(entry.line));
        if (lines.length < CHUNK) continue;
        writeMember(fd, lines);
        lines = [];
      }
      if (lines.length > 0) writeMember(fd, lines);
    } finally {
      closeSync(fd);
    }
    renameSync(`${resumed}.partial`, resumed);
  }
  const movedTo = unusedPath(dir, `${basename(path)}.bad-`, '');
  renameSync(path, movedTo);
  return { file: path, movedTo, ...read };
}

/** `<prefix><time><suffix>` in dir, not taken yet (two files can be set aside in one millisecond). */
function unusedPath(dir: string, prefix: string, suffix: string): string {
  for (let t = Date.now(); ; t++) {
    const path = join(dir, `${prefix}${t}${suffix}`);
    if (!existsSync(path)) return path;
  }
}

/** Lines as one gzip member: concatenated members are one valid gzip stream. */
function writeMember(fd: number, lines: readonly string[]): void {
  writeSync(fd, gzipSync(`${lines.join('\n')}\n`, { level: 1 }));
}

/** After a stop with nothing left: what a start resumed from is accounted for. */
export function clearResumed(dir: string): void {
  for (const f of resumedFiles(dir)) rmSync(join(dir, f), { force: true });
}
