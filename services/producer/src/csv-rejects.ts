// The rows of a cohort CSV replay that the reader refuses (a value that is not a number, an
// event that fails its schema, a field too many, a stray quote): each becomes a dead letter
// naming the file and line, and the replay goes on with the next row.
import type { CohortRowRejection } from '@ehr/cohort';
import { buildDeadLetter, deterministicId, type DeadLetter, type RawEvent } from '@ehr/features';

/** The dead letters' source (`sourceTopic`), as `producer:<source>` for the streamed events it refuses. */
export const CSV_SOURCE_TOPIC = 'producer:csv';

/**
 * A refused row → its dead letter: `unparseable` (not a row of the header's columns) or
 * `schema_invalid` (its values are not a valid event, patient or label); the error and the
 * first detail name the file and line(s), `sourceOffset` is the line, `originalBytes` the
 * row's text (its first 2,000 characters). The id derives from the file and line, so a
 * replay of the same file dead-letters to the same ids, and two equal rows to two.
 */
export function csvRowDeadLetter(r: CohortRowRejection, now: Date = new Date()): DeadLetter {
  const where = `${r.file}:${r.line}${r.endLine > r.line ? `-${r.endLine}` : ''}`;
  const reason = r.kind === 'unparseable' ? 'unparseable' : 'schema_invalid';
  const cut = r.raw.length < r.rawLength ? [{ path: 'originalBytes', message: `truncated: the row had ${r.rawLength} characters; the first ${r.raw.length} are kept` }] : [];
  const letter = buildDeadLetter(
    { topic: CSV_SOURCE_TOPIC, partition: null, offset: String(r.line), key: r.patientId, value: Buffer.from(r.raw) },
    { service: 'producer', reason, error: `${where}: ${r.reason}`, issues: [{ path: where, message: r.reason }, ...cut], patientId: r.patientId, originalEventId: r.eventId },
    now,
  );
  return { ...letter, eventId: deterministicId('dead-letter', 'producer', CSV_SOURCE_TOPIC, where, reason) };
}

/** Most dead letters held before they are sent (they go before the next event in any case). */
const BATCH = 100;

/**
 * The CSV source's rejected rows as dead letters, sent in order: before the next event is
 * streamed, every BATCH rows, and when the stream ends. Rows refused during `scan` (the pass
 * that only times the replay) are not sent: the streaming pass refuses them again.
 */
export function csvRejects(send: (letters: DeadLetter[]) => Promise<void>) {
  let pending: DeadLetter[] = [];
  let scanning = false;
  const flush = async () => {
    if (pending.length === 0) return;
    const letters = pending;
    pending = [];
    await send(letters);
  };
  return {
    async reject(r: CohortRowRejection): Promise<void> {
      if (scanning) return;
      pending.push(csvRowDeadLetter(r));
      if (pending.length >= BATCH) await flush();
    },
    flush,
    async scan<T>(pass: () => Promise<T>): Promise<T> {
      scanning = true;
      try {
        return await pass();
      } finally {
        scanning = false;
      }
    },
    async *around(events: AsyncIterable<RawEvent>): AsyncGenerator<RawEvent> {
      try {
        for await (const e of events) {
          await flush();
          yield e;
        }
      } finally {
        await flush();
      }
    },
  };
}
