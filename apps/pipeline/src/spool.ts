// What `npm start` keeps on disk when it stops before the in-memory bus is drained: every
// record a stage has not committed yet, per topic, so that the next `npm start` puts them
// back on the bus before any service starts and nothing accepted is lost. The file is
// gzipped JSON lines (a record: topic, key, value as base64, headers), written in partition
// and offset order so that each key's order survives; a stop that has to be quick (a
// second Ctrl-C) writes it synchronously.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gzipSync } from 'node:zlib';
import type { BusRecord, MemoryBroker, OutgoingRecord } from '@ehr/bus';

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
      // Concatenated gzip members are one valid gzip stream.
      for (let i = 0; i < records.length; i += CHUNK) {
        const lines = records.slice(i, i + CHUNK).map((r) => JSON.stringify({ topic: r.topic, key: r.key, value: r.value.toString('base64'), headers: r.headers } satisfies Line));
        writeSync(fd, gzipSync(`${lines.join('\n')}\n`, { level: 1 }));
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
 * in it (landed, or kept again), so a crash before then loses nothing either.
 */
export async function resumeSpool(broker: MemoryBroker, dir: string, partitions: number): Promise<SpoolReport> {
  const files = [...resumedFiles(dir), ...(existsSync(join(dir, SPOOL_FILE)) ? [SPOOL_FILE] : [])];
  const counts = Object.create(null) as Record<string, number>;
  let total = 0;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(join(dir, file)).pipe(createGunzip()), crlfDelay: Infinity });
    let batch: { topic: string; record: OutgoingRecord }[] = [];
    const flush = () => {
      // Runs of one topic in one append each, in file order.
      for (let i = 0; i < batch.length; ) {
        const topic = batch[i]!.topic;
        let j = i;
        while (j < batch.length && batch[j]!.topic === topic) j++;
        broker.createTopic({ topic, partitions });
        broker.append(topic, batch.slice(i, j).map((b) => b.record));
        i = j;
      }
      batch = [];
    };
    for await (const text of lines) {
      if (!text) continue;
      const line = JSON.parse(text) as Line;
      batch.push({ topic: line.topic, record: { key: line.key ?? '', value: Buffer.from(line.value, 'base64'), headers: line.headers } });
      counts[line.topic] = (counts[line.topic] ?? 0) + 1;
      total++;
      if (batch.length >= CHUNK) flush();
    }
    flush();
    if (file === SPOOL_FILE) renameSync(join(dir, file), join(dir, `pipeline-spool.resumed-${Date.now()}.jsonl.gz`));
  }
  return { counts, total, path: files.length > 0 ? dir : null };
}

/** After a stop with nothing left: what a start resumed from is accounted for. */
export function clearResumed(dir: string): void {
  for (const f of resumedFiles(dir)) rmSync(join(dir, f), { force: true });
}
