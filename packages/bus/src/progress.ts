// Is every partition a consumer owns moving? A batch handed to the handler that has not
// completed (it keeps failing, or it hangs) is "pending"; a partition pending for longer
// than the threshold is stalled, which readiness reports as degraded, naming it, and
// `ehr_consumer_oldest_unprocessed_age_seconds{topic,partition}` shows how old its oldest
// unprocessed record is (broker time), so an alert can fire before anyone notices silence.
import { errorMessage, Gauge, type DependencyStatus, type Registry } from '@ehr/runtime';
import type { BatchHandler, Subscription, TopicPartition } from './types.js';

export interface PartitionProgressOptions {
  /** A partition pending this long is stalled (CONSUMER_STALL_SECONDS × 1000). */
  stallAfterMs: number;
  /** Registers `ehr_consumer_oldest_unprocessed_age_seconds`. */
  metrics?: Registry;
  now?: () => number;
}

interface Pending {
  /** Broker time of the first record of the batch not yet done. */
  oldestRecordAt: number;
  /** Wall clock when that batch was first handed over. */
  since: number;
  attempts: number;
  lastError: string | null;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class PartitionProgress {
  private readonly pending = new Map<string, Pending & TopicPartition>();
  private subscription: Pick<Subscription, 'assignment'> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: PartitionProgressOptions) {
    this.now = options.now ?? Date.now;
    if (options.metrics) {
      const ages = () => {
        const t = this.now();
        return this.owned().map((tp) => {
          const p = this.pending.get(tpKey(tp.topic, tp.partition));
          return { labels: { topic: tp.topic, partition: String(tp.partition) }, seconds: p ? Math.max(0, (t - p.oldestRecordAt) / 1000) : 0 };
        });
      };
      new Gauge({
        name: 'ehr_consumer_oldest_unprocessed_age_seconds',
        help: 'age (broker time) of the oldest record handed to the consumer and not yet processed, per owned partition; 0 when caught up',
        labelNames: ['topic', 'partition'],
        registers: [options.metrics],
        collect() {
          this.reset();
          for (const { labels, seconds } of ages()) this.set(labels, seconds);
        },
      });
    }
  }

  /** The subscription whose assignment bounds what is reported (partitions moved elsewhere drop out). */
  attach(subscription: Pick<Subscription, 'assignment'>): void {
    this.subscription = subscription;
  }

  /** The handler, watched: a batch is pending from its first delivery until a delivery of it completes. */
  wrap(handler: BatchHandler): BatchHandler {
    return async (batch, context) => {
      const key = tpKey(batch.topic, batch.partition);
      const first = batch.records[0];
      let entry = this.pending.get(key);
      if (!entry && first) {
        entry = { topic: batch.topic, partition: batch.partition, oldestRecordAt: first.timestamp, since: this.now(), attempts: 0, lastError: null };
        this.pending.set(key, entry);
      }
      if (entry) entry.attempts++;
      try {
        await handler(batch, context);
      } catch (err) {
        if (entry) entry.lastError = errorMessage(err).slice(0, 300);
        throw err;
      }
      this.pending.delete(key);
    };
  }

  /** Owned partitions with no progress for longer than the threshold. */
  stalled(): (TopicPartition & { forMs: number; attempts: number; lastError: string | null })[] {
    const t = this.now();
    const out: (TopicPartition & { forMs: number; attempts: number; lastError: string | null })[] = [];
    const owned = new Set(this.owned().map((tp) => tpKey(tp.topic, tp.partition)));
    for (const [key, p] of this.pending) {
      if (!owned.has(key)) {
        if (this.subscription) this.pending.delete(key);
        continue;
      }
      if (t - p.since > this.options.stallAfterMs) out.push({ topic: p.topic, partition: p.partition, forMs: t - p.since, attempts: p.attempts, lastError: p.lastError });
    }
    return out;
  }

  /** For readiness: up, or degraded naming every stalled partition (the service still serves the others). */
  status(): DependencyStatus {
    const stalled = this.stalled();
    if (stalled.length === 0) return { state: 'up', detail: 'every owned partition is progressing' };
    const named = stalled
      // The error itself goes to the logs only: a readiness body is no place for what a record held.
      .map((s) => `${s.topic}[${s.partition}] no progress for ${Math.round(s.forMs / 1000)} s after ${s.attempts} deliveries`)
      .join('; ');
    return { state: 'degraded', detail: `stalled: ${named}` };
  }

  private owned(): TopicPartition[] {
    if (this.subscription) return this.subscription.assignment();
    return [...this.pending.values()].map(({ topic, partition }) => ({ topic, partition }));
  }
}
