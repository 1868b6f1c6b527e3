import type { Bus, BusRecord, RecordBatch, Subscription, TopicPartition } from '@ehr/bus';
import { buildDeadLetter, decodeDeadLetter, decodeSeverityScore, TOPICS, triage } from '@ehr/features';
import { backoffDelay, Counter, errorMessage, Gauge, Histogram, type DependencyStatus, type Logger, type Registry } from '@ehr/runtime';
import { deadLetterRow, scoreRow } from './warehouse/rows.js';
import { OffsetConflictError, type DeadLetterRow, type ScoreRow, type Warehouse } from './warehouse/types.js';

export interface FlushPolicy {
  /** Flush a partition at this many buffered records… */
  records: number;
  /** …or this many message bytes… */
  bytes: number;
  /** …or this long after its oldest buffered record, whichever comes first. */
  ms: number;
}

export interface LandedEvent {
  topic: string;
  partition: number;
  /** Records covered (rows, plus records dead-lettered instead of landed). */
  records: number;
  rowsInserted: number;
  lastOffset: bigint;
  /** When the warehouse transaction committed (epoch ms). */
  committedAt: number;
  /** Broker append time of each record covered (epoch ms), for end-to-end delay. */
  timestamps: number[];
  trigger: FlushTrigger;
}

export type FlushTrigger = 'records' | 'bytes' | 'time' | 'retry' | 'shutdown';

export interface SinkProcessorDeps {
  bus: Bus;
  warehouse: Warehouse;
  logger: Logger;
  metrics: Registry;
  groupId: string;
  flush: FlushPolicy;
  /** Pause consumption while all buffers together hold more bytes than this. */
  maxBufferedBytes: number;
  retry: { initialMs: number; maxMs: number };
  /** Pushes the warehouse's state to readiness (degraded while retrying). */
  onWarehouseStatus?: (status: DependencyStatus) => void;
  /** Called after every committed batch (benchmarks, tests). */
  onLanded?: (event: LandedEvent) => void;
  /** Records per batch the in-memory bus hands over. */
  maxBatchRecords?: number;
  /**
   * The bus's topic prefix on the wire (`KAFKA_TOPIC_PREFIX`): lineage and the offsets
   * table name the real Kafka topic, so pipelines sharing a cluster never share offsets.
   */
  topicPrefix?: string;
}

interface Entry {
  offset: bigint;
  bytes: number;
  timestamp: number;
  score?: ScoreRow;
  deadLetter?: DeadLetterRow;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Last offset the warehouse holds for this partition (-1: none). */
  landed: bigint;
  /** Highest offset taken into the buffer (or landed): anything at or below is a redelivery. */
  taken: bigint;
  entries: Entry[];
  bytes: number;
  /** When the oldest buffered entry arrived (ms), null when empty. */
  since: number | null;
  flushing: Promise<void> | null;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Scores and dead letters in, warehouse rows out, exactly once:
 * - per-partition buffers, flushed on count, bytes or age, whichever comes first;
 * - a flush is one warehouse transaction: the rows and the partition's new offset,
 *   guarded by the offset the sink last saw there (a conflict re-reads and trims);
 * - Kafka offsets are committed only after the warehouse commits; on assignment the
 *   bus resumes after what the warehouse holds; redelivered offsets are skipped;
 * - warehouse down: consumption pauses, readiness says degraded, flushes retry with
 *   backoff (re-reading the warehouse offsets first, in case a commit did land), and
 *   everything resumes on its own.
 */
export class SinkProcessor {
  private readonly states = new Map<string, PartitionState>();
  private subscription: Subscription | null = null;
  private cluster = '';
  private ticker: NodeJS.Timeout | null = null;
  private failing: { since: number; failures: number; timer: NodeJS.Timeout | null; error: string } | null = null;
  private stopping = false;
  private pausedForMemory = false;
  private readonly m;

  constructor(private readonly deps: SinkProcessorDeps) {
    const registers = [deps.metrics];
    this.m = {
      events: new Counter({ name: 'ehr_sink_events_total', help: 'severity scores consumed', registers }),
      deadLetters: new Counter({ name: 'ehr_sink_dead_letters_total', help: 'severity scores rejected, by reason', labelNames: ['reason'], registers }),
      rows: new Counter({ name: 'ehr_sink_rows_landed_total', help: 'rows committed to the warehouse, by table', labelNames: ['table'], registers }),
      skipped: new Counter({ name: 'ehr_sink_redelivered_skipped_total', help: 'redelivered records skipped (already buffered or landed)', registers }),
      flushes: new Counter({ name: 'ehr_sink_flushes_total', help: 'warehouse batches committed, by trigger', labelNames: ['trigger'], registers }),
      failures: new Counter({ name: 'ehr_sink_warehouse_failures_total', help: 'failed warehouse writes', labelNames: ['kind'], registers }),
      flushSeconds: new Histogram({
        name: 'ehr_sink_flush_seconds',
        help: 'duration of one warehouse batch transaction',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
      delay: new Histogram({
        name: 'ehr_sink_end_to_end_seconds',
        help: 'from a record reaching the bus to its row being committed in the warehouse',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
        registers,
      }),
      buffered: new Gauge({ name: 'ehr_sink_buffered_records', help: 'records buffered, not yet in the warehouse', registers }),
      offset: new Gauge({
        name: 'ehr_sink_warehouse_offset',
        help: 'last offset the warehouse holds, per topic (on the wire) and partition',
        labelNames: ['topic', 'partition'],
        registers,
      }),
    };
  }

  /** Identifies the cluster, loads the warehouse offsets, subscribes to scores and dead letters. */
  async start(): Promise<void> {
    this.cluster = await this.deps.bus.clusterId();
    for (const topic of [TOPICS.scores, TOPICS.deadLetter]) {
      for (const [partition, offset] of await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic))) {
        const state = this.state(topic, partition);
        this.setLanded(state, offset);
        state.taken = offset;
      }
    }
    this.subscription = await this.deps.bus.subscribe({
      groupId: this.deps.groupId,
      topics: [TOPICS.scores, TOPICS.deadLetter],
      autoCommit: false,
      handler: (batch) => this.handle(batch),
      onPartitionStart: (tp) => this.onPartitionStart(tp),
      ...(this.deps.maxBatchRecords ? { maxBatchRecords: this.deps.maxBatchRecords } : {}),
    });
    const tick = Math.max(10, Math.min(250, Math.floor(this.deps.flush.ms / 4)));
    this.ticker = setInterval(() => this.onTick(), tick);
    this.ticker.unref();
  }

  /** Lands what is buffered (one attempt), leaves the group, closes nothing it does not own. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.failing?.timer) clearTimeout(this.failing.timer);
    this.subscription?.pause();
    await this.flushAll('shutdown');
    await this.subscription?.stop();
    // Left the group: what lands now is committed to the warehouse only (the truth anyway).
    this.subscription = null;
    await this.flushAll('shutdown');
    const left = this.bufferedRecords();
    if (left > 0) this.deps.logger.warn({ records: left }, 'stopping with records not in the warehouse; they will be consumed again');
  }

  private setLanded(s: PartitionState, offset: bigint): void {
    s.landed = offset;
    this.m.offset.set({ topic: this.wire(s.topic), partition: String(s.partition) }, Number(offset));
  }

  private wire(topic: string): string {
    return (this.deps.topicPrefix ?? '') + topic;
  }

  private onWire(record: BusRecord): BusRecord {
    return this.deps.topicPrefix ? { ...record, topic: this.wire(record.topic) } : record;
  }

  bufferedRecords(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.entries.length;
    return n;
  }

  /** The warehouse offset the sink knows for a partition (-1: none). */
  landedOffset(topic: string, partition: number): bigint {
    return this.states.get(tpKey(topic, partition))?.landed ?? -1n;
  }

  private state(topic: string, partition: number): PartitionState {
    const key = tpKey(topic, partition);
    let s = this.states.get(key);
    if (!s) {
      s = { topic, partition, landed: -1n, taken: -1n, entries: [], bytes: 0, since: null, flushing: null };
      this.states.set(key, s);
    }
    return s;
  }

  /** Start (or restart) a partition from what the warehouse holds. */
  private async onPartitionStart({ topic, partition }: TopicPartition): Promise<{ resumeAt: string }> {
    const s = this.state(topic, partition);
    await s.flushing;
    try {
      const landed = (await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic))).get(partition) ?? -1n;
      this.setLanded(s, landed);
    } catch (err) {
      // The last known offset is still safe: the guarded write catches anything stale.
      this.deps.logger.warn({ err, topic, partition }, 'cannot read the warehouse offset; resuming from the last known one');
    }
    // Whatever was buffered is delivered again from here: start clean.
    s.entries = [];
    s.bytes = 0;
    s.since = null;
    s.taken = s.landed;
    this.updateBufferedGauge();
    return { resumeAt: String(s.landed + 1n) };
  }

  /** The bus handler: decode, buffer, flush when a threshold is reached. Never throws on bad input. */
  async handle(batch: RecordBatch): Promise<void> {
    const s = this.state(batch.topic, batch.partition);
    const fresh = batch.records.filter((r) => BigInt(r.offset) > s.taken);
    if (fresh.length < batch.records.length) this.m.skipped.inc(batch.records.length - fresh.length);
    if (fresh.length === 0) return;
    const entries = batch.topic === TOPICS.deadLetter ? this.deadLetterEntries(fresh) : await this.scoreEntries(fresh);
    // A flush may have re-read the warehouse while we produced dead letters.
    const kept = entries.filter((e) => e.offset > s.taken);
    if (kept.length === 0) return;
    s.taken = kept[kept.length - 1]!.offset;
    // One at a time, so a count or size threshold cuts the batch where it is reached.
    for (const e of kept) {
      if (s.since === null) s.since = Date.now();
      s.entries.push(e);
      s.bytes += e.bytes;
      const trigger = this.dueTrigger(s);
      if ((trigger === 'records' || trigger === 'bytes') && !this.failing) await this.flush(s, trigger);
    }
    this.updateBufferedGauge();
    this.applyBackpressure();
  }

  private async scoreEntries(records: BusRecord[]): Promise<Entry[]> {
    this.m.events.inc(records.length);
    const { accepted, rejected } = triage(records, decodeSeverityScore, 'sink');
    if (rejected.length > 0) {
      for (const d of rejected) this.m.deadLetters.inc({ reason: d.reason });
      this.deps.logger.warn({ count: rejected.length, topic: records[0]!.topic, partition: records[0]!.partition }, 'dead-lettered severity scores');
      // Durable on the dead-letter topic before the offsets move past them (it lands in dead_letters from there).
      await this.deps.bus.produce(
        TOPICS.deadLetter,
        rejected.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })),
      );
    }
    const rows = new Map(accepted.map(({ record, value }) => [record, scoreRow(this.cluster, this.onWire(record), value)]));
    return records.map((r) => {
      const score = rows.get(r);
      return { offset: BigInt(r.offset), bytes: r.value.length, timestamp: r.timestamp, ...(score ? { score } : {}) };
    });
  }

  private deadLetterEntries(records: BusRecord[]): Entry[] {
    return records.map((r) => {
      const decoded = decodeDeadLetter(r.value);
      // A malformed dead letter cannot be dead-lettered again (a loop): keep it whole, as the sink's own.
      const letter = decoded.ok
        ? decoded.value
        : buildDeadLetter(r, { service: 'sink', reason: decoded.reason, error: decoded.error, issues: decoded.issues });
      return { offset: BigInt(r.offset), bytes: r.value.length, timestamp: r.timestamp, deadLetter: deadLetterRow(this.cluster, this.onWire(r), letter) };
    });
  }

  private dueTrigger(s: PartitionState): FlushTrigger | null {
    if (s.entries.length === 0) return null;
    if (s.entries.length >= this.deps.flush.records) return 'records';
    if (s.bytes >= this.deps.flush.bytes) return 'bytes';
    if (s.since !== null && Date.now() - s.since >= this.deps.flush.ms) return 'time';
    return null;
  }

  private onTick(): void {
    if (this.failing || this.stopping) return;
    for (const s of this.states.values()) {
      const trigger = this.dueTrigger(s);
      if (trigger && !s.flushing) void this.flush(s, trigger);
    }
  }

  private async flushAll(trigger: FlushTrigger): Promise<boolean> {
    let ok = true;
    for (const s of this.states.values()) {
      if (s.entries.length === 0 && !s.flushing) continue;
      await s.flushing;
      if (s.entries.length > 0) ok = (await this.flush(s, trigger)) && ok;
    }
    return ok;
  }

  /** One flush of a partition at a time; resolves true when its buffer (as cut) landed. */
  private flush(s: PartitionState, trigger: FlushTrigger): Promise<boolean> {
    if (s.flushing) return s.flushing.then(() => s.entries.length === 0);
    let landed = false;
    s.flushing = (async () => {
      landed = await this.land(s, trigger);
    })().finally(() => {
      s.flushing = null;
    });
    return s.flushing.then(() => landed);
  }

  private async land(s: PartitionState, trigger: FlushTrigger): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      // Never offer the warehouse what it already holds (after a re-read moved `landed`).
      if (s.entries.length > 0 && s.entries[0]!.offset <= s.landed) {
        s.entries = s.entries.filter((e) => e.offset > s.landed);
        s.bytes = s.entries.reduce((n, e) => n + e.bytes, 0);
        if (s.entries.length === 0) s.since = null;
      }
      const cut = s.entries;
      if (cut.length === 0) return true;
      const cutBytes = s.bytes;
      const cutSince = s.since;
      s.entries = [];
      s.bytes = 0;
      s.since = null;
      const lastOffset = cut[cut.length - 1]!.offset;
      const scores = cut.flatMap((e) => (e.score ? [e.score] : []));
      const deadLetters = cut.flatMap((e) => (e.deadLetter ? [e.deadLetter] : []));
      const started = performance.now();
      try {
        const result = await this.deps.warehouse.land({
          cluster: this.cluster,
          topic: this.wire(s.topic),
          partition: s.partition,
          expectedLastOffset: s.landed,
          lastOffset,
          scores: dedupeBy(scores, (r) => r.scoreId),
          deadLetters: dedupeBy(deadLetters, (r) => r.deadLetterId),
        });
        const committedAt = Date.now();
        this.m.flushSeconds.observe((performance.now() - started) / 1000);
        this.setLanded(s, lastOffset);
        this.m.flushes.inc({ trigger });
        this.m.rows.inc({ table: 'severity_scores' }, result.scoresInserted);
        this.m.rows.inc({ table: 'dead_letters' }, result.deadLettersInserted);
        for (const e of cut) this.m.delay.observe(Math.max(0, committedAt - e.timestamp) / 1000);
        this.updateBufferedGauge();
        await this.subscription?.commit([{ topic: s.topic, partition: s.partition, offset: String(lastOffset + 1n) }]);
        this.deps.onLanded?.({
          topic: s.topic,
          partition: s.partition,
          records: cut.length,
          rowsInserted: result.scoresInserted + result.deadLettersInserted,
          lastOffset,
          committedAt,
          timestamps: cut.map((e) => e.timestamp),
          trigger,
        });
        if (this.failing) this.recovered();
        this.applyBackpressure();
        return true;
      } catch (err) {
        // Back in front of whatever arrived meanwhile: nothing is lost, order is kept.
        s.entries = cut.concat(s.entries);
        s.bytes += cutBytes;
        s.since = cutSince ?? s.since;
        if (err instanceof OffsetConflictError) {
          this.m.failures.inc({ kind: 'offset_conflict' });
          this.deps.logger.warn({ topic: s.topic, partition: s.partition }, 'warehouse offset moved on (another writer, or an earlier commit landed): re-reading');
          try {
            await this.reconcile(s.topic);
          } catch (readErr) {
            this.failed(readErr);
            return false;
          }
          continue;
        }
        this.m.failures.inc({ kind: 'error' });
        this.failed(err);
        return false;
      }
    }
    return s.entries.length === 0;
  }

  /** Re-reads what the warehouse holds for a topic and drops what is already there. */
  private async reconcile(topic: string): Promise<void> {
    const offsets = await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic));
    for (const s of this.states.values()) {
      if (s.topic !== topic) continue;
      const landed = offsets.get(s.partition) ?? -1n;
      this.setLanded(s, landed);
      if (landed > s.taken) s.taken = landed;
      const before = s.entries.length;
      s.entries = s.entries.filter((e) => e.offset > landed);
      if (s.entries.length !== before) {
        s.bytes = s.entries.reduce((n, e) => n + e.bytes, 0);
        if (s.entries.length === 0) s.since = null;
      }
    }
    this.updateBufferedGauge();
  }

  /** Warehouse unusable: pause, report degraded, retry with backoff. */
  private failed(err: unknown): void {
    const message = errorMessage(err);
    if (!this.failing) {
      this.failing = { since: Date.now(), failures: 0, timer: null, error: message };
      this.deps.logger.error({ err }, 'warehouse write failed; pausing consumption and retrying');
    }
    this.failing.failures++;
    this.failing.error = message;
    this.subscription?.pause();
    if (this.stopping) return;
    const delay = backoffDelay(this.deps.retry, this.failing.failures);
    this.deps.onWarehouseStatus?.({ state: 'degraded', detail: `write failed (${message}); retry ${this.failing.failures} in ${delay} ms, consumption paused` });
    if (this.failing.timer) clearTimeout(this.failing.timer);
    this.failing.timer = setTimeout(() => void this.retry(), delay);
    this.failing.timer.unref();
  }

  private async retry(): Promise<void> {
    if (!this.failing || this.stopping) return;
    this.failing.timer = null;
    try {
      // A commit whose answer was lost may have landed: ask before writing again.
      await this.reconcile(TOPICS.scores);
      await this.reconcile(TOPICS.deadLetter);
    } catch (err) {
      this.m.failures.inc({ kind: 'error' });
      this.failed(err);
      return;
    }
    const ok = await this.flushAll('retry');
    if (ok && this.failing) this.recovered();
  }

  private recovered(): void {
    if (!this.failing) return;
    const { since, failures } = this.failing;
    if (this.failing.timer) clearTimeout(this.failing.timer);
    this.failing = null;
    this.deps.logger.info({ downMs: Date.now() - since, failures }, 'warehouse writes recovered; resuming consumption');
    this.deps.onWarehouseStatus?.({ state: 'up', detail: this.deps.warehouse.description });
    this.applyBackpressure();
  }

  /** Paused while the warehouse fails or the buffers are too big; resumed otherwise. */
  private applyBackpressure(): void {
    const sub = this.subscription;
    if (!sub || this.stopping) return;
    let bytes = 0;
    for (const s of this.states.values()) bytes += s.bytes;
    this.pausedForMemory = bytes > this.deps.maxBufferedBytes;
    if (this.failing || this.pausedForMemory) {
      if (!sub.paused) sub.pause();
      if (this.pausedForMemory && !this.failing) {
        for (const s of this.states.values()) if (s.entries.length > 0 && !s.flushing) void this.flush(s, 'bytes');
      }
    } else if (sub.paused) {
      sub.resume();
    }
  }

  private updateBufferedGauge(): void {
    this.m.buffered.set(this.bufferedRecords());
  }
}

function dedupeBy<T>(rows: readonly T[], id: (row: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const row of rows) {
    const k = id(row);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(row);
  }
  return out;
}
