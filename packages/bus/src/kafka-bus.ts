import type { ConnectionOptions } from 'node:tls';
import { backoffDelay, type DependencyStatus, type Logger } from '@ehr/runtime';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { compressionType, type KafkaCompression } from './compression.js';
import { RecordFailure } from './isolation.js';
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

/**
 * How a compacted topic (a service's state changelog) is created. Kafka compacts only rolled
 * segments, and with its defaults a segment rolls at 1 GiB or after 7 days: the feature
 * service's changelog (120 bytes an event in the pipeline bench) stayed uncompacted for the
 * first hours of a feed at 2,000 events/s, and a restart read all of it before it was ready
 * (FEATURE_RESTORE_TIMEOUT_MS). Rolled at 16 MiB or hourly, the log cleaner keeps what a
 * restore reads near the live state: 32 MiB on disk and 0.6 s against 585 MiB and 7.9 s for
 * 572 MiB of writes to 19 MiB of live state (bench/changelog.ts; README, "State changelogs that
 * stay small"). A topic that already exists keeps its settings: the README gives the command.
 */
export const COMPACTED_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compact',
  'segment.bytes': String(16 * 1024 * 1024),
  'segment.ms': String(60 * 60 * 1000),
};

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  ssl?: boolean | ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Partitions for topics this bus creates. */
  defaultPartitions?: number;
  replicationFactor?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How long a silent consumer keeps its partitions before the group moves them. */
  sessionTimeoutMs?: number;
  /**
   * Prepended to every topic name on the wire (e.g. `staging.`), so several pipelines or
   * test runs can share one cluster. Services keep using the plain names.
   */
  topicPrefix?: string;
  /** Records per produce request are capped at about this many bytes. */
  maxRequestBytes?: number;
  /** Record-batch compression of what this bus writes (it reads every codec it knows). */
  compression?: KafkaCompression;
  /**
   * How many bytes one fetch takes from a partition, and in all. The broker counts them
   * compressed: with LZ4 (the default) kafkajs's 1 MiB per partition decompressed to about
   * 5 MiB of records held at once, so a consumer's memory and the sink's buffer bound grew
   * with the compression ratio. Defaults 128 KiB and 512 KiB (a record larger than that still
   * comes, alone).
   */
  fetchMaxBytesPerPartition?: number;
  fetchMaxBytes?: number;
}

function* slicesBySize(records: readonly OutgoingRecord[], maxBytes: number): Generator<readonly OutgoingRecord[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const size = (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + Buffer.byteLength(r.key) + 64;
    if (i > start && bytes + size > maxBytes) {
      yield records.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < records.length) yield records.slice(start);
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function kafkaLogCreator(logger: Logger) {
  // kafkajs's INFO is chatty (every join, every pause): keep it at debug.
  return () =>
    ({ level, log, namespace }: LogEntry) => {
      const { message, ...extra } = log;
      const line = { namespace, ...extra };
      // Connection-level errors are protocol responses kafkajs retries (a coordinator still
      // loading, a leader moving): worth a warning, not an error.
      if (level === logLevel.ERROR && namespace !== 'Connection') logger.error(line, `kafkajs: ${message}`);
      else if (level === logLevel.ERROR) logger.warn(line, `kafkajs: ${message}`);
      else if (level === logLevel.WARN) logger.warn(line, `kafkajs: ${message}`);
      else logger.debug(line, `kafkajs: ${message}`);
    };
}

function toRecord(topic: string, partition: number, m: KafkaMessage): BusRecord {
  // Header names come from whoever wrote the record: no prototype for "__proto__" to reach.
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value !== undefined) headers[name] = Buffer.isBuffer(value) ? value.toString() : String(value);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString() : null,
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(m.timestamp),
  };
}

/** The real engine: kafkajs with an idempotent producer and explicit commits after success. */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private state: DependencyStatus = { state: 'down', detail: 'not connected' };
  private cachedClusterId: string | null = null;
  private readonly wire: (topic: string) => string;

  constructor(private readonly options: KafkaBusOptions) {
    const prefix = options.topicPrefix ?? '';
    this.wire = (topic) => prefix + topic;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl as SASLOptions } : {}),
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      logLevel: logLevel.INFO,
      logCreator: kafkaLogCreator(options.logger.child({ component: 'kafkajs' })),
      retry: { initialRetryTime: 300, retries: 8 },
    });
    // Idempotent: a retried send never writes a record twice; one request in flight
    // keeps per-partition order across retries.
    // Unlimited retries (with kafkajs's capped backoff) are part of the idempotence contract:
    // a produce waits out a broker restart instead of failing and being re-sent by hand.
    this.producer = this.kafka.producer({
      idempotent: true,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.state = { state: 'down', detail: 'producer disconnected' };
    });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    this.state = { state: 'up', detail: `kafka ${this.options.brokers.join(',')}` };
  }

  async clusterId(): Promise<string> {
    this.cachedClusterId ??= (await this.admin.describeCluster()).clusterId;
    return this.cachedClusterId;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    // Services starting side by side race to create the same topics; a loser sees
    // "already exists" or UNKNOWN_TOPIC_OR_PARTITION while the winner's topic settles.
    // So: create what is missing, then re-check, a few times, before giving up.
    let lastError: unknown = null;
    for (let attempt = 0; attempt < 6; attempt++) {
      const existing = new Set(await this.admin.listTopics());
      const missing = specs.filter((s) => !existing.has(this.wire(s.topic)));
      if (missing.length === 0) return;
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: this.wire(s.topic),
            numPartitions: s.partitions ?? this.options.defaultPartitions ?? 3,
            replicationFactor: this.options.replicationFactor ?? 1,
            configEntries: s.compacted ? Object.entries(COMPACTED_TOPIC_CONFIG).map(([name, value]) => ({ name, value })) : [],
          })),
        });
        return;
      } catch (err) {
        lastError = err;
        this.options.logger.warn({ err, attempt, topics: missing.map((s) => s.topic) }, 'topic creation raced or failed; checking again');
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
    throw new Error(`could not create topics ${specs.map((s) => s.topic).join(', ')}: ${String(lastError)}`);
  }

  async produce(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    // The broker refuses a record batch over message.max.bytes (1 MiB by default): send in
    // slices well under it, one after another so per-key order holds.
    for (const slice of slicesBySize(records, this.options.maxRequestBytes ?? 512 * 1024)) {
      await this.producer.send({
        topic: this.wire(topic),
        acks: -1,
        compression: compressionType(this.options.compression ?? 'none'),
        messages: slice.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })),
      });
    }
  }

  async groupLag(groupId: string, topics: readonly string[]): Promise<number> {
    let total = 0n;
    for (const topic of topics) {
      const [ends, committed] = await Promise.all([this.admin.fetchTopicOffsets(this.wire(topic)), this.admin.fetchOffsets({ groupId, topics: [this.wire(topic)] })]);
      const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      for (const { partition, offset, low } of ends) {
        // -1: the group never committed on this partition, so everything still there is ahead of it.
        const from = at.get(partition) ?? -1n;
        const start = from < 0n ? BigInt(low) : from;
        if (BigInt(offset) > start) total += BigInt(offset) - start;
      }
    }
    return Number(total);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const createConsumer = () =>
      this.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        rebalanceTimeout: 30_000,
        maxWaitTimeInMs: 250,
        maxBytesPerPartition: this.options.fetchMaxBytesPerPartition ?? 128 * 1024,
        maxBytes: this.options.fetchMaxBytes ?? 512 * 1024,
        allowAutoTopicCreation: false,
      });
    const subscription = new KafkaSubscription(createConsumer, options, this.options.logger.child({ group: options.groupId }), this.options.topicPrefix ?? '');
    await subscription.start();
    this.subscriptions.add(subscription);
    subscription.onStopped(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  status(): DependencyStatus {
    const crashed = [...this.subscriptions].find((s) => s.crashed);
    return crashed ? { state: 'down', detail: `consumer ${crashed.groupId} crashed: ${crashed.crashed}` } : this.state;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.producer.disconnect();
    await this.admin.disconnect();
    this.state = { state: 'down', detail: 'closed' };
  }
}

/** @internal exported for tests: one consumer group member over kafkajs. */
export class KafkaSubscription implements Subscription {
  private owned: TopicPartition[] = [];
  /** Per partition since the last (re)assignment: the first offset to hand over. */
  private readonly floors = new Map<string, bigint>();
  private readonly backoff = new Map<string, { failures: number; timer: NodeJS.Timeout | null }>();
  private readonly lags = new Map<string, number>();
  private isPaused = false;
  private stopping: Promise<void> | null = null;
  private stoppedListeners: (() => void)[] = [];
  private consumer: Consumer;
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;
  crashed: string | null = null;

  constructor(
    private readonly createConsumer: () => Consumer,
    private readonly options: SubscribeOptions,
    private readonly logger: Logger,
    private readonly prefix: string,
  ) {
    this.consumer = this.newConsumer();
  }

  private newConsumer(): Consumer {
    const consumer = this.createConsumer();
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment;
      this.owned = Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic: this.plain(topic), partition })));
      // A new generation may hand back partitions with other positions: ask again.
      this.floors.clear();
      this.lags.clear();
      this.crashed = null;
      this.restarts = 0;
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.logger.error({ err: error, restart }, 'consumer crashed');
      // kafkajs restarts itself after retriable errors only. A broker that stays away past
      // the retries ("failed to find group coordinator") would leave this consumer dead for
      // good: start a fresh one, with a growing pause, until the broker is back.
      if (!restart && !this.stopping) {
        this.crashed = error.message;
        this.scheduleRestart();
      }
    });
    return consumer;
  }

  private scheduleRestart(): void {
    if (this.restartTimer || this.stopping) return;
    this.restarts++;
    const delay = backoffDelay({ initialMs: 1_000, maxMs: 30_000 }, this.restarts);
    this.logger.warn({ retryInMs: delay, attempt: this.restarts }, 'restarting the crashed consumer');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.restart();
    }, delay);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const old = this.consumer;
    await old.disconnect().catch(() => undefined);
    this.owned = [];
    this.floors.clear();
    this.lags.clear();
    this.consumer = this.newConsumer();
    try {
      await this.start();
      if (this.isPaused) this.consumer.pause(this.options.topics.map((topic) => ({ topic: this.wire(topic) })));
    } catch (err) {
      this.logger.warn({ err }, 'consumer restart failed; will try again');
      await this.consumer.disconnect().catch(() => undefined);
      this.scheduleRestart();
    }
  }

  get groupId(): string {
    return this.options.groupId;
  }

  private wire(topic: string): string {
    return this.prefix + topic;
  }

  private plain(topic: string): string {
    return topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
  }

  onStopped(listener: () => void): void {
    this.stoppedListeners.push(listener);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics.map((t) => this.wire(t)), fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrentPartitions ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    const topic = this.plain(batch.topic);
    const heartbeat = () => payload.heartbeat();
    const key = tpKey(topic, partition);
    if (!this.floors.has(key)) {
      const start = await this.options.onPartitionStart?.({ topic, partition });
      this.floors.set(key, start?.resumeAt !== undefined ? BigInt(start.resumeAt) : -1n);
    }
    const floor = this.floors.get(key)!;
    const records: BusRecord[] = [];
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      if (BigInt(message.offset) >= floor) records.push(toRecord(topic, partition, message));
    }
    if (records.length === 0) {
      if (batch.messages.length > 0) payload.resolveOffset(batch.lastOffset());
      if (floor > BigInt(batch.lastOffset()) + 1n) this.consumer.seek({ topic: batch.topic, partition, offset: floor.toString() });
      return;
    }

    const first = records[0]!.offset;
    const last = records[records.length - 1]!.offset;
    try {
      await this.options.handler({ topic, partition, records, highWatermark: batch.highWatermark }, { heartbeat });
    } catch (err) {
      if (this.stopping) return; // leaving the group: the next owner starts from the last commit
      this.retryLater(topic, partition, first, err);
      return;
    }
    this.clearBackoff(key);
    payload.resolveOffset(last);
    this.lags.set(key, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)));
    if (this.options.autoCommit ?? true) {
      await this.commit([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    }
    await heartbeat();
  }

  /** Redeliver from `offset` after an exponential backoff; other partitions keep flowing. */
  private retryLater(topic: string, partition: number, offset: string, err: unknown): void {
    const key = tpKey(topic, partition);
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    // A record's own failure carries its own (bounded) schedule: a run of poison records
    // must not push the partition's backoff towards its maximum.
    const delay =
      err instanceof RecordFailure ? err.retryInMs : backoffDelay({ initialMs: this.options.retry?.initialMs ?? 200, maxMs: this.options.retry?.maxMs ?? 30_000 }, failures);
    this.logger.warn({ err, topic, partition, offset, failures, retryInMs: delay }, 'batch failed; will redeliver');
    clearTimeout(this.backoff.get(key)?.timer ?? undefined);
    this.consumer.seek({ topic: this.wire(topic), partition, offset });
    this.consumer.pause([{ topic: this.wire(topic), partitions: [partition] }]);
    const timer = setTimeout(() => {
      if (!this.isPaused && !this.stopping) this.consumer.resume([{ topic: this.wire(topic), partitions: [partition] }]);
      const entry = this.backoff.get(key);
      if (entry) entry.timer = null;
    }, delay);
    timer.unref();
    this.backoff.set(key, { failures, timer });
  }

  private clearBackoff(key: string): void {
    const entry = this.backoff.get(key);
    if (entry?.timer) clearTimeout(entry.timer);
    this.backoff.delete(key);
  }

  get paused(): boolean {
    return this.isPaused;
  }

  pause(): void {
    this.isPaused = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic: this.wire(topic) })));
  }

  resume(): void {
    this.isPaused = false;
    this.consumer.resume(this.options.topics.map((topic) => ({ topic: this.wire(topic) })));
    // Partitions still waiting out a retry backoff stay paused until their timer fires.
    for (const [key, entry] of this.backoff) {
      if (entry.timer === null) continue;
      const [topic, partition] = key.split('\u0000') as [string, string];
      this.consumer.pause([{ topic: this.wire(topic), partitions: [Number(partition)] }]);
    }
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const owned = offsets.filter((o) => this.owned.some((tp) => tp.topic === o.topic && tp.partition === o.partition));
    if (owned.length === 0) return;
    try {
      await this.consumer.commitOffsets(owned.map((o) => ({ topic: this.wire(o.topic), partition: o.partition, offset: o.offset })));
    } catch (err) {
      // Typically a rebalance: the partition's next owner resumes from the previous commit.
      this.logger.warn({ err, offsets: owned }, 'offset commit failed; records after the last commit will be redelivered');
    }
  }

  assignment(): TopicPartition[] {
    return this.owned.map((tp) => ({ ...tp }));
  }

  lag(): number {
    let total = 0;
    for (const v of this.lags.values()) total += v;
    return total;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      for (const entry of this.backoff.values()) if (entry.timer) clearTimeout(entry.timer);
      await this.consumer.stop();
      await this.consumer.disconnect();
      for (const listener of this.stoppedListeners) listener();
    })();
    return this.stopping;
  }
}
