// One record that throws must not stop its partition. A consumer runs the work of each
// record through `RecordIsolation`: a throw fails the batch (so it is redelivered to the
// state before it, like any failed batch), but it is counted against that record; once the
// record has thrown on each of its `maxAttempts` deliveries, the next delivery hands it to
// the consumer to dead-letter (`processing_error`, with the error and the original bytes)
// instead of processing it, and the partition moves on. Errors outside a record's own work
// (a produce that fails, a warehouse outage) are not a record's fault: they keep the usual
// unbounded redelivery, and `PartitionProgress` makes the stall visible.
import { backoffDelay, Counter, errorMessage, type Logger, type Registry } from '@ehr/runtime';
import type { BusRecord } from './types.js';

/** A record's own work threw; the bus redelivers its batch after `retryInMs`. */
export class RecordFailure extends Error {
  constructor(
    readonly record: Pick<BusRecord, 'topic' | 'partition' | 'offset'>,
    readonly attempt: number,
    readonly maxAttempts: number,
    readonly retryInMs: number,
    cause: unknown,
  ) {
    super(`record ${record.topic}[${record.partition}]@${record.offset} failed (attempt ${attempt} of ${maxAttempts}): ${errorMessage(cause)}`, { cause });
    this.name = 'RecordFailure';
  }
}

export type RecordVerdict =
  /** Process it as usual. */
  | { isolate: false }
  /** It threw on every attempt: dead-letter it (`processing_error`) instead. */
  | { isolate: true; error: string; attempts: number };

export interface RecordIsolationOptions {
  /** Deliveries a throwing record gets before it is dead-lettered (CONSUMER_MAX_ATTEMPTS; default 3). */
  maxAttempts?: number;
  /** Pause before a failed record's batch is delivered again (exponential, jittered). */
  retry?: { initialMs?: number; maxMs?: number };
  logger: Logger;
  /** Registers `ehr_consumer_record_failures_total` and `ehr_consumer_records_isolated_total` (by topic). */
  metrics?: Registry;
}

/** Records that failed but are not settled yet are few; this only guards against a pathological flood. */
const MAX_TRACKED = 10_000;

const keyOf = (r: Pick<BusRecord, 'topic' | 'partition' | 'offset'>) => `${r.topic}\u0000${r.partition}\u0000${r.offset}`;

export class RecordIsolation {
  readonly maxAttempts: number;
  private readonly failures = new Map<string, { attempts: number; error: string }>();
  private readonly failed: Counter | null;
  private readonly isolated: Counter | null;

  constructor(private readonly options: RecordIsolationOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new Error(`maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    const registers = options.metrics ? [options.metrics] : [];
    this.failed = options.metrics
      ? new Counter({ name: 'ehr_consumer_record_failures_total', help: 'records whose processing threw (each attempt), by topic', labelNames: ['topic'], registers })
      : null;
    this.isolated = options.metrics
      ? new Counter({ name: 'ehr_consumer_records_isolated_total', help: 'records dead-lettered as processing_error after every attempt threw, by topic', labelNames: ['topic'], registers })
      : null;
  }

  /** Process this record, or dead-letter it because it has used up its attempts. */
  verdict(record: BusRecord): RecordVerdict {
    if (this.failures.size === 0) return { isolate: false };
    const entry = this.failures.get(keyOf(record));
    if (!entry || entry.attempts < this.maxAttempts) return { isolate: false };
    return { isolate: true, error: entry.error, attempts: entry.attempts };
  }

  /** Runs one record's work; a throw becomes a `RecordFailure` (the batch is redelivered). */
  run<T>(record: BusRecord, work: () => T): T {
    try {
      return work();
    } catch (err) {
      this.fail(record, err);
    }
  }

  /** Async form of `run`. */
  async runAsync<T>(record: BusRecord, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      this.fail(record, err);
    }
  }

  /** Counts a failure of this record and throws the `RecordFailure` that redelivers its batch. */
  fail(record: BusRecord, err: unknown): never {
    if (err instanceof RecordFailure) throw err;
    const key = keyOf(record);
    const attempts = (this.failures.get(key)?.attempts ?? 0) + 1;
    if (!this.failures.has(key) && this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(key, { attempts, error: errorMessage(err).slice(0, 2000) });
    this.failed?.inc({ topic: record.topic });
    // The last attempt used: deliver again at once, this time to be dead-lettered.
    const retryInMs = attempts >= this.maxAttempts ? 0 : backoffDelay({ initialMs: this.options.retry?.initialMs ?? 200, maxMs: this.options.retry?.maxMs ?? 5_000 }, attempts);
    this.options.logger.warn(
      { err, topic: record.topic, partition: record.partition, offset: record.offset, attempt: attempts, maxAttempts: this.maxAttempts },
      attempts >= this.maxAttempts ? 'record failed on its last attempt; it will be dead-lettered' : 'record failed; its batch will be redelivered',
    );
    throw new RecordFailure(record, attempts, this.maxAttempts, retryInMs, err);
  }

  /** The batch holding these records is done (output durable): forget them. */
  settled(records: readonly BusRecord[]): void {
    if (this.failures.size === 0) return;
    for (const r of records) {
      const key = keyOf(r);
      const entry = this.failures.get(key);
      if (!entry) continue;
      if (entry.attempts >= this.maxAttempts) {
        this.isolated?.inc({ topic: r.topic });
        this.options.logger.error({ topic: r.topic, partition: r.partition, offset: r.offset, attempts: entry.attempts }, 'record dead-lettered as processing_error; its partition moves on');
      }
      this.failures.delete(key);
    }
  }
}
