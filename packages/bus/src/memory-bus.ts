import { randomUUID } from 'node:crypto';
import { backoffDelay, type DependencyStatus, type Logger } from '@ehr/runtime';
import { RecordFailure } from './isolation.js';
import { partitionForKey } from './partitioner.js';
import type {
  Bus,
  BusRecord,
  OutgoingRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
} from './types.js';

export interface MemoryBrokerOptions {
  /** Partitions of a topic created on first use. */
  defaultPartitions?: number;
  /**
   * Producers wait while a partition holds more than this many records not yet committed
   * by a live consumer group: the in-memory bus pushes back instead of growing without bound.
   */
  maxBacklogPerPartition?: number;
  /**
   * The same bound in bytes (keys and values): producers wait while a live group has more
   * than this not committed on a partition. Records differ a hundredfold in size (a raw
   * event against a feature vector), so a count alone let `npm start` hold gigabytes of
   * vectors and scores when a slow stage fell behind. Default 8 MiB.
   */
  maxBacklogBytesPerPartition?: number;
  /** Hard cap on records kept per partition, committed or not (reaching it drops the oldest 1 %). */
  maxRetainedPerPartition?: number;
  /**
   * Bytes (keys and values) that live groups have not committed, across every topic, past
   * which a source waits: a client that consumes nothing (intake, a streaming source). The
   * stages never wait on it, as the records they are producing from are what has to drain;
   * they keep to the per-partition bounds. Intake waiting past its deadline answers 503 with
   * Retry-After, so a slow stage pushes back to the client instead of filling the process.
   * Default 24 MiB (the embedded replay: see `npm run bench -w @ehr/pipeline`).
   */
  maxHeldBytes?: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/**
 * The headers of every record produced without any. A null-prototype object starts as a
 * dictionary: about 200 bytes of heap each, 20 MiB for the 117,000 raw events a heap snapshot
 * of the embedded replay found held on the bus. Frozen: a consumer cannot change what the
 * next one reads.
 */
const NO_HEADERS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * The value as the bus keeps it. A frame written into a growing buffer is a view of a larger
 * one (the wire's writer doubles its capacity): the embedded replay's heap snapshot found
 * 98.5 MiB of backing stores behind 44,000 feature vectors and 106 MiB behind 23,600 scores,
 * about twice their bytes, held for as long as the slowest group had not committed them. Such
 * a view is copied to its own size; a slice of Node's shared pool (small strings) is not,
 * as the pool packs many of them together already.
 */
function keptValue(value: string | Buffer): Buffer {
  if (typeof value === 'string') return Buffer.from(value);
  const backing = value.buffer.byteLength;
  return backing > 2 * value.byteLength && backing !== Buffer.poolSize ? Buffer.from(value) : value;
}
/** Committed bytes a partition may keep before they are dropped (see `trimBelow`). */
const TRIM_CHUNK_BYTES = 256 * 1024;

class MemoryPartition {
  base = 0;
  /** Held records by offset from `base`; a hole where compaction dropped one. */
  readonly records: (BusRecord | undefined)[] = [];
  /** Bytes appended before each held record (a running sum), and in all. */
  private readonly before: number[] = [];
  private bytes = 0;
  /** A compacted topic's partition: the offset of each key's latest record. */
  private readonly latestByKey: Map<string, number> | null;

  constructor(compacted: boolean) {
    this.latestByKey = compacted ? new Map() : null;
  }

  get end(): number {
    return this.base + this.records.length;
  }

  push(record: BusRecord): void {
    this.before.push(this.bytes);
    this.bytes += record.value.length + (record.key === null ? 0 : Buffer.byteLength(record.key));
    this.records.push(record);
    if (this.latestByKey && record.key !== null) {
      // Compaction as Kafka does it, at once: a key's older record goes (its offset stays a
      // gap). Without it the alerting service's state changelog, which nothing reads once the
      // service has started, grew by every alert-state change until maxRetainedPerPartition.
      const older = this.latestByKey.get(record.key);
      if (older !== undefined && older >= this.base) this.records[older - this.base] = undefined;
      this.latestByKey.set(record.key, Number(record.offset));
    }
  }

  /** Bytes of the records from `offset` to the end. */
  bytesFrom(offset: number): number {
    const i = Math.max(offset, this.base) - this.base;
    return i >= this.before.length ? 0 : this.bytes - this.before[i]!;
  }

  /** Up to `max` records from `from`, and the offset after the last one looked at (past gaps). */
  read(from: number, max: number): { records: BusRecord[]; next: number } {
    const start = Math.max(from, this.base) - this.base;
    const records: BusRecord[] = [];
    let i = start;
    for (; i < this.records.length && records.length < max; i++) {
      const record = this.records[i];
      if (record !== undefined) records.push(record);
    }
    return { records, next: this.base + i };
  }

  /**
   * Drops records below `offset`, in chunks so that appends stay cheap: so many records, or
   * so many bytes. A count alone kept up to 5,000 committed records a partition, about 20 MiB
   * of feature vectors, on every partition of every topic: more than the backlog bound itself
   * (`npm start`'s heap held 150 MiB of records, most of them committed).
   */
  trimBelow(offset: number, chunk = 5_000, chunkBytes = TRIM_CHUNK_BYTES): void {
    const drop = Math.min(offset, this.end) - this.base;
    if (drop <= 0) return;
    if (drop >= chunk || this.bytesFrom(this.base) - this.bytesFrom(this.base + drop) >= chunkBytes) {
      this.records.splice(0, drop);
      this.before.splice(0, drop);
      this.base += drop;
      if (this.latestByKey) for (const [key, offset] of this.latestByKey) if (offset < this.base) this.latestByKey.delete(key);
    }
  }
}

interface MemoryTopic {
  partitions: MemoryPartition[];
  compacted: boolean;
}

/**
 * The shared state of an in-memory "cluster": topics with partitions and offsets, and
 * consumer groups with committed offsets. Several `MemoryBus` clients (one per service
 * in `npm start`) share one broker as services share a Kafka cluster.
 */
export class MemoryBroker {
  readonly id = `memory-${randomUUID()}`;
  readonly topics = new Map<string, MemoryTopic>();
  private readonly groups = new Map<string, MemoryGroup>();
  private capacityWaiters: (() => void)[] = [];
  readonly defaultPartitions: number;
  private readonly maxBacklog: number;
  private readonly maxBacklogBytes: number;
  private readonly maxRetained: number;
  /** Records dropped beyond the cap when a partition reaches it (1 % of the cap). */
  private readonly retainedSlack: number;
  private readonly maxHeld: number;

  constructor(options: MemoryBrokerOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 3;
    this.maxBacklog = options.maxBacklogPerPartition ?? 50_000;
    this.maxBacklogBytes = options.maxBacklogBytesPerPartition ?? 8 * 1024 * 1024;
    this.maxRetained = options.maxRetainedPerPartition ?? 500_000;
    this.retainedSlack = Math.max(0, Math.min(this.maxRetained - 1, Math.ceil(this.maxRetained / 100)));
    this.maxHeld = options.maxHeldBytes ?? 24 * 1024 * 1024;
  }

  createTopic(spec: TopicSpec): MemoryTopic {
    let topic = this.topics.get(spec.topic);
    if (!topic) {
      const count = spec.partitions ?? this.defaultPartitions;
      const compacted = spec.compacted ?? false;
      topic = { partitions: Array.from({ length: count }, () => new MemoryPartition(compacted)), compacted };
      this.topics.set(spec.topic, topic);
      for (const group of this.groups.values()) group.topicsChanged();
    }
    return topic;
  }

  group(groupId: string): MemoryGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new MemoryGroup(this, groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  append(topicName: string, records: readonly OutgoingRecord[]): void {
    const topic = this.createTopic({ topic: topicName });
    const now = Date.now();
    for (const record of records) {
      const partitionIndex = partitionForKey(record.key, topic.partitions.length);
      const partition = topic.partitions[partitionIndex]!;
      partition.push({
        topic: topicName,
        partition: partitionIndex,
        offset: String(partition.end),
        key: record.key,
        value: keptValue(record.value),
        headers: record.headers && Object.keys(record.headers).length > 0 ? Object.assign(Object.create(null) as Record<string, string>, record.headers) : NO_HEADERS,
        timestamp: now,
      });
      // Past the cap, the oldest 1 % goes at once: one record per append cost a copy of the
      // whole partition each time (two 500,000-slot arrays: 0.5 µs an append below the cap,
      // 450 µs at it), and a compacted topic that nothing commits, the alerting service's
      // state, reaches the cap in a long run. `bench/retained.ts`.
      if (partition.records.length > this.maxRetained) partition.trimBelow(partition.end - this.maxRetained + this.retainedSlack, 1);
    }
    for (const group of this.groups.values()) if (group.subscribes(topicName)) group.wakeAll();
  }

  /**
   * Records of `topic` that `groupId` has not committed, partition by partition in offset
   * order: what stopping the process now would lose (the launcher keeps them on disk).
   */
  uncommitted(topicName: string, groupId: string): BusRecord[] {
    const topic = this.topics.get(topicName);
    if (!topic) return [];
    const group = this.groups.get(groupId);
    return topic.partitions.flatMap((p, i) => p.read(group ? group.committedOffset(topicName, i, p.base) : p.base, p.end).records);
  }

  /** How many records of `topic` `groupId` has not committed. */
  uncommittedCount(topicName: string, groupId: string): number {
    const topic = this.topics.get(topicName);
    if (!topic) return 0;
    const group = this.groups.get(groupId);
    return topic.partitions.reduce((n, p, i) => n + Math.max(0, p.end - (group ? group.committedOffset(topicName, i, p.base) : p.base)), 0);
  }

  /**
   * Resolves once no partition of `topic` is over the backlog limit of a live group other
   * than `own` (a client never waits for its own groups: a consumer that produces to a
   * topic it consumes, as the sink does with dead letters, would wait on itself for ever).
   */
  async waitForCapacity(topicName: string, own: ReadonlySet<string> = new Set()): Promise<void> {
    while (this.overBacklog(topicName, own) || (own.size === 0 && this.heldBytes() > this.maxHeld)) {
      await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
    }
  }

  /**
   * Bytes live groups have not committed, across topics: per partition, what the furthest
   * behind of the groups reading it has still to commit. A topic no live group reads is left
   * out: nothing would ever release a source waiting on it.
   */
  heldBytes(): number {
    const groups = [...this.groups.values()].filter((g) => g.live);
    let total = 0;
    for (const [name, topic] of this.topics) {
      const readers = groups.filter((g) => g.subscribes(name));
      if (readers.length === 0) continue;
      topic.partitions.forEach((p, i) => {
        total += Math.max(...readers.map((g) => p.bytesFrom(g.committedOffset(name, i, p.base))));
      });
    }
    return total;
  }

  private overBacklog(topicName: string, own: ReadonlySet<string>): boolean {
    const topic = this.topics.get(topicName);
    if (!topic) return false;
    const live = [...this.groups.values()].filter((g) => g.live && g.subscribes(topicName) && !own.has(g.groupId));
    if (live.length === 0) return false;
    return topic.partitions.some((p, i) =>
      live.some((g) => {
        const committed = g.committedOffset(topicName, i, p.base);
        return p.end - committed > this.maxBacklog || p.bytesFrom(committed) > this.maxBacklogBytes;
      }),
    );
  }

  /**
   * After a commit: release waiting producers and drop what every group has committed. A live
   * group that reads the topic and has not committed on the partition yet counts too (at the
   * start): the sink commits only once its first warehouse write lands, and left out it lost
   * the records the faster groups (alerting, dashboard) committed past meanwhile, as the
   * embedded replay's warehouse showed (two runs of ~3,400 offsets with no row).
   */
  committed(topicName: string, partitionIndex: number): void {
    const partition = this.topics.get(topicName)?.partitions[partitionIndex];
    if (partition) {
      const groups = [...this.groups.values()].filter((g) => g.hasCommitted(topicName, partitionIndex) || (g.live && g.subscribes(topicName)));
      if (groups.length > 0) {
        const low = Math.min(...groups.map((g) => g.committedOffset(topicName, partitionIndex, partition.base)));
        partition.trimBelow(low);
      }
    }
    this.releaseProducers();
  }

  /** Waiting producers re-check their backlog (after a commit, or a group going away). */
  releaseProducers(): void {
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * A consumer group: members, assignment, committed offsets. Rebalances stop the world
 * (no member starts a batch until every in-flight batch has finished), as Kafka's eager
 * protocol does, so one partition is never processed by two members at once.
 */
class MemoryGroup {
  private readonly members: MemoryConsumer[] = [];
  private readonly commits = new Map<string, number>();
  private rebalancePending = false;

  constructor(
    private readonly broker: MemoryBroker,
    readonly groupId: string,
  ) {}

  get live(): boolean {
    return this.members.length > 0;
  }

  get rebalancing(): boolean {
    return this.rebalancePending;
  }

  subscribes(topic: string): boolean {
    return this.members.some((m) => m.topics.includes(topic));
  }

  hasCommitted(topic: string, partition: number): boolean {
    return this.commits.has(tpKey(topic, partition));
  }

  committedOffset(topic: string, partition: number, fallback: number): number {
    return this.commits.get(tpKey(topic, partition)) ?? fallback;
  }

  commit(topic: string, partition: number, offset: number): void {
    this.commits.set(tpKey(topic, partition), offset);
    this.broker.committed(topic, partition);
  }

  join(member: MemoryConsumer): void {
    this.members.push(member);
    this.requestRebalance();
  }

  leave(member: MemoryConsumer): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    this.requestRebalance();
    this.broker.releaseProducers();
  }

  topicsChanged(): void {
    if (this.members.length > 0) this.requestRebalance();
  }

  private requestRebalance(): void {
    this.rebalancePending = true;
    this.tryCompleteRebalance();
  }

  /** Members call this whenever they go idle; the last one to do so completes the rebalance. */
  tryCompleteRebalance(): void {
    if (!this.rebalancePending || this.members.some((m) => m.busy)) return;
    this.rebalancePending = false;
    const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
    const partitions: TopicPartition[] = topics.flatMap((topic) =>
      (this.broker.topics.get(topic)?.partitions ?? []).map((_, partition) => ({ topic, partition })),
    );
    const assignments = new Map<MemoryConsumer, TopicPartition[]>(this.members.map((m) => [m, []]));
    partitions.forEach((tp, i) => {
      const eligible = this.members.filter((m) => m.topics.includes(tp.topic));
      if (eligible.length > 0) assignments.get(eligible[i % eligible.length]!)!.push(tp);
    });
    for (const [member, assigned] of assignments) member.assign(assigned);
    this.wakeAll();
  }

  wakeAll(): void {
    for (const m of this.members) m.wake();
  }
}

class MemoryConsumer implements Subscription {
  readonly topics: string[];
  busy = false;
  private owned: TopicPartition[] = [];
  private readonly positions = new Map<string, number>();
  private readonly started = new Set<string>();
  private readonly backoff = new Map<string, { until: number; failures: number }>();
  private cursor = 0;
  private isPaused = false;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly group: MemoryGroup;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly options: SubscribeOptions,
    private readonly onError: (err: unknown, tp: TopicPartition, redelivery: { offset: string; failures: number; retryInMs: number }) => void,
  ) {
    this.topics = [...options.topics];
    this.group = broker.group(options.groupId);
  }

  get groupId(): string {
    return this.options.groupId;
  }

  start(): void {
    for (const topic of this.topics) this.broker.createTopic({ topic });
    this.group.join(this);
    this.loop = this.run();
  }

  get paused(): boolean {
    return this.isPaused;
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    this.wake();
  }

  assignment(): TopicPartition[] {
    return this.owned.map((tp) => ({ ...tp }));
  }

  lag(): number {
    let total = 0;
    for (const { topic, partition } of this.owned) {
      const p = this.broker.topics.get(topic)?.partitions[partition];
      if (p) total += Math.max(0, p.end - (this.positions.get(tpKey(topic, partition)) ?? p.base));
    }
    return total;
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    for (const { topic, partition, offset } of offsets) {
      if (this.owns(topic, partition)) this.group.commit(topic, partition, Number(offset));
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.loop ?? undefined;
    this.stopping = true;
    this.wake();
    await this.loop;
    this.group.leave(this);
  }

  assign(partitions: TopicPartition[]): void {
    this.owned = partitions;
    this.positions.clear();
    this.started.clear();
    this.backoff.clear();
    for (const { topic, partition } of partitions) {
      const p = this.broker.topics.get(topic)!.partitions[partition]!;
      const start = this.options.fromBeginning === false ? p.end : p.base;
      this.positions.set(tpKey(topic, partition), this.group.committedOffset(topic, partition, start));
    }
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  private owns(topic: string, partition: number): boolean {
    return this.owned.some((tp) => tp.topic === topic && tp.partition === partition);
  }

  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.group.rebalancing) {
        this.group.tryCompleteRebalance();
        if (this.group.rebalancing) await this.sleep();
        continue;
      }
      const work = this.pickWork();
      if (work.tp === null) {
        await this.sleep(work.retryInMs);
        continue;
      }
      this.busy = true;
      try {
        await this.process(work.tp);
      } finally {
        this.busy = false;
      }
    }
  }

  private pickWork(): { tp: TopicPartition | null; retryInMs?: number } {
    if (this.isPaused || this.owned.length === 0) return { tp: null };
    const now = Date.now();
    let retryInMs: number | undefined;
    for (let i = 0; i < this.owned.length; i++) {
      const tp = this.owned[(this.cursor + i) % this.owned.length]!;
      const key = tpKey(tp.topic, tp.partition);
      const backoff = this.backoff.get(key);
      if (backoff && backoff.until > now) {
        retryInMs = Math.min(retryInMs ?? Infinity, backoff.until - now);
        continue;
      }
      const partition = this.broker.topics.get(tp.topic)!.partitions[tp.partition]!;
      if (!this.started.has(key) || (this.positions.get(key) ?? 0) < partition.end) {
        this.cursor = (this.cursor + i + 1) % this.owned.length;
        return { tp };
      }
    }
    return { tp: null, ...(retryInMs === undefined ? {} : { retryInMs }) };
  }

  private async process(tp: TopicPartition): Promise<void> {
    const key = tpKey(tp.topic, tp.partition);
    if (!this.started.has(key)) {
      const start = await this.options.onPartitionStart?.(tp);
      this.started.add(key);
      if (start?.resumeAt !== undefined) {
        this.positions.set(key, Math.max(this.positions.get(key) ?? 0, Number(start.resumeAt)));
      }
      return;
    }
    const partition = this.broker.topics.get(tp.topic)!.partitions[tp.partition]!;
    const from = Math.max(this.positions.get(key) ?? 0, partition.base);
    const { records, next } = partition.read(from, this.options.maxBatchRecords ?? 500);
    if (records.length === 0) {
      // Only gaps compaction left: step over them (and commit past them, as a batch would).
      this.positions.set(key, next);
      if (this.options.autoCommit ?? true) this.group.commit(tp.topic, tp.partition, next);
      return;
    }
    try {
      await this.options.handler(
        { topic: tp.topic, partition: tp.partition, records, highWatermark: String(partition.end) },
        { heartbeat: async () => undefined },
      );
    } catch (err) {
      // Redeliver the same records after a backoff; a stopping member just leaves.
      this.positions.set(key, from);
      const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
      // A record's own failure carries its own (bounded) schedule: a run of poison records
      // must not push the partition's backoff towards its maximum.
      const delay =
        err instanceof RecordFailure ? err.retryInMs : backoffDelay({ initialMs: this.options.retry?.initialMs ?? 200, maxMs: this.options.retry?.maxMs ?? 30_000 }, failures);
      this.backoff.set(key, { until: Date.now() + delay, failures });
      if (!this.stopping) this.onError(err, tp, { offset: String(from), failures, retryInMs: delay });
      return;
    }
    this.backoff.delete(key);
    this.positions.set(key, next);
    if (this.options.autoCommit ?? true) this.group.commit(tp.topic, tp.partition, next);
  }
}

export interface MemoryBusOptions extends MemoryBrokerOptions {
  /** Share one broker between several buses (one per service in one process). */
  broker?: MemoryBroker;
  /** Failed batches are logged here exactly as the Kafka bus logs them. */
  logger?: Logger;
  onHandlerError?: (err: unknown, tp: TopicPartition) => void;
}

/** The embedded default: Kafka's semantics (partitions, offsets, groups) in one process. */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly broker: MemoryBroker;
  private readonly subscriptions = new Set<MemoryConsumer>();
  private closed = false;

  constructor(private readonly options: MemoryBusOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker(options);
  }

  async connect(): Promise<void> {
    this.closed = false;
  }

  async clusterId(): Promise<string> {
    return this.broker.id;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) this.broker.createTopic(spec);
  }

  async produce(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new Error(`cannot produce to ${topic}: bus is closed`);
    await this.broker.waitForCapacity(topic, new Set([...this.subscriptions].map((c) => c.groupId)));
    this.broker.append(topic, records);
  }

  async groupLag(groupId: string, topics: readonly string[]): Promise<number> {
    return topics.reduce((n, topic) => n + this.broker.uncommittedCount(topic, groupId), 0);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new Error(`cannot subscribe group ${options.groupId}: bus is closed`);
    const consumer = new MemoryConsumer(this.broker, options, (err, tp, redelivery) => {
      // The Kafka bus's line, field for field: a handler that keeps failing must be visible.
      this.options.logger?.warn({ err, topic: tp.topic, partition: tp.partition, ...redelivery }, 'batch failed; will redeliver');
      this.options.onHandlerError?.(err, tp);
    });
    this.subscriptions.add(consumer);
    consumer.start();
    const stop = consumer.stop.bind(consumer);
    consumer.stop = async () => {
      await stop();
      this.subscriptions.delete(consumer);
    };
    return consumer;
  }

  status(): DependencyStatus {
    return this.closed ? { state: 'down', detail: 'in-memory bus closed' } : { state: 'up', detail: 'in-memory bus' };
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
  }
}
