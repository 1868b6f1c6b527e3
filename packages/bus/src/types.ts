import type { DependencyStatus } from '@ehr/runtime';

/** A message as consumed: where it sits (topic, partition, offset) and what it carries. */
export interface BusRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as a decimal string. */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Broker (or append) time, epoch milliseconds. */
  timestamp: number;
}

export interface OutgoingRecord {
  /** The patient id in this pipeline: one patient's messages stay on one partition, in order. */
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/** Consecutive records of one partition, handed to a handler in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: BusRecord[];
  /** Offset of the next record to be written to the partition when the batch was fetched. */
  highWatermark: string;
}

export interface HandlerContext {
  /** Long handlers call this so the group does not think the consumer died. */
  heartbeat(): Promise<void>;
}

/**
 * Processes one batch. Resolving means the batch is done (and, with `autoCommit`, its
 * offsets are committed); rejecting means it is redelivered after a backoff. Records
 * that can never succeed (poison input) must be dead-lettered by the handler, not thrown.
 */
export type BatchHandler = (batch: RecordBatch, context: HandlerContext) => Promise<void>;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read, as Kafka commits it (last processed + 1). */
  offset: string;
}

export interface SubscribeOptions {
  groupId: string;
  topics: readonly string[];
  handler: BatchHandler;
  /** Where a group with no committed offset starts: the earliest record (default) or new ones only. */
  fromBeginning?: boolean;
  /**
   * Commit each batch's offsets once the handler resolves (default). A consumer that
   * makes its output durable later (the sink batches into a warehouse) turns this off
   * and calls `Subscription.commit` itself.
   */
  autoCommit?: boolean;
  /**
   * Called before the first batch of a partition after every (re)assignment. Return
   * `resumeAt` to start from a position you track yourself (the warehouse offset): records
   * below it are skipped, never handed over.
   */
  onPartitionStart?: (tp: TopicPartition) => Promise<{ resumeAt?: string } | void>;
  /** Upper bound on records per batch (the in-memory bus; Kafka batches by bytes). */
  maxBatchRecords?: number;
  /**
   * How many partitions' batches the handler may have in flight at once (Kafka; default 1).
   * Each partition's batches still come one at a time and in order; a handler that keeps no
   * state across partitions overlaps one batch's produce and commit round trips with another
   * batch's work. The in-memory bus has no round trips to overlap and ignores it.
   */
  concurrentPartitions?: number;
  /** Backoff before a failed batch is redelivered. */
  retry?: { initialMs?: number; maxMs?: number };
}

export interface Subscription {
  /** Stop fetching (backpressure); the in-flight batch completes. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** Commit positions explicitly (for `autoCommit: false`). Ignores partitions no longer owned. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Partitions currently owned by this member. */
  assignment(): TopicPartition[];
  /** Records behind the high watermark, summed over owned partitions, as of the last fetch. */
  lag(): number;
  /** Leave the group: waits for the in-flight batch, commits what succeeded, closes. */
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** Keep the latest record per key forever (a changelog) instead of deleting by age. */
  compacted?: boolean;
}

export interface Bus {
  readonly kind: 'kafka' | 'memory';
  connect(): Promise<void>;
  /**
   * Identifies the cluster the offsets belong to. An in-memory bus is a new cluster on
   * every start (its offsets begin again at 0), so whoever stores offsets keys them by this.
   */
  clusterId(): Promise<string>;
  /** Creates missing topics; existing ones are left as they are. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Appends records; resolves once they are durable (all in-sync replicas). */
  produce(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Records of `topics` that consumer group `groupId` has not committed yet, summed over
   * partitions (everything, for a group that never committed). A launcher stopping the
   * pipeline in flow order waits for this to reach 0 before it stops the next stage.
   */
  groupLag(groupId: string, topics: readonly string[]): Promise<number>;
  /** For readiness: is the bus usable right now. */
  status(): DependencyStatus;
  close(): Promise<void>;
}
