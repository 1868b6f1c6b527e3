import type { Bus, RecordBatch, Subscription, TopicPartition } from '@ehr/bus';
import { TOPICS, type SeverityScoreEvent, type Validation } from '@ehr/features';
import type { DependencyStatus, Logger, Registry } from '@ehr/runtime';
import { convert, type Converted } from './convert.js';
import { Lander, type Landed } from './lander.js';
import { sinkMetrics, type SinkMetrics } from './metrics.js';
import { Outage } from './outage.js';
import { PartitionBuffer, type Cut, type FlushPolicy, type FlushTrigger } from './partition-buffer.js';
import { partitionsStatus, registerProgressMetrics } from './progress.js';
import { OffsetConflictError, type Warehouse } from './warehouse/types.js';

export type { FlushPolicy, FlushTrigger } from './partition-buffer.js';

export interface LandedEvent {
  topic: string;
  partition: number;
  /** Records covered (rows, plus records dead-lettered or refused instead of landed). */
  records: number;
  rowsInserted: number;
  lastOffset: bigint;
  /** When the warehouse transaction committed (epoch ms). */
  committedAt: number;
  /** Broker append time of each record covered (epoch ms), for end-to-end delay. */
  timestamps: number[];
  trigger: FlushTrigger;
}

export interface SinkProcessorDeps {
  bus: Bus;
  warehouse: Warehouse;
  logger: Logger;
  metrics: Registry;
  groupId: string;
  flush: FlushPolicy;
  /** Pause consumption while all buffers and writes in flight together hold more bytes than this. */
  maxBufferedBytes: number;
  retry: { initialMs: number; maxMs: number };
  /** Tries of a record whose conversion throws before it is dead-lettered as processing_error. */
  recordMaxAttempts: number;
  /** A partition with records waiting and no progress for this long shows in readiness. */
  stallMs: number;
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
  /** The score decoder; tests inject a faulty one to exercise processing_error. */
  decodeScore?: (bytes: Uint8Array) => Validation<SeverityScoreEvent>;
}

interface PartitionRun {
  buffer: PartitionBuffer;
  /** Fires when the buffer is due by age (SINK_FLUSH_MS after its first record). */
  timer: NodeJS.Timeout | null;
  /** The write in flight, if any: at most one per partition, while the next batch fills. */
  flushing: Promise<boolean> | null;
}

/**
 * What the sink lands: served scores, a challenger's shadow scores (into their own table),
 * alert events, and every service's dead letters.
 */
const SUBSCRIBED = [TOPICS.scores, TOPICS.shadowScores, TOPICS.alerts, TOPICS.deadLetter] as const;

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/** Conflicts in a row before a write backs off like an outage (a writer keeps beating us to the partition). */
const MAX_CONFLICTS = 3;

/**
 * Scores and dead letters in, warehouse rows out, exactly once:
 * - per-partition buffers of raw records, flushed on count, bytes or age (from the first
 *   record), whichever comes first; the next batch fills while the current one is written;
 * - a flush converts its records (a record that cannot be converted never stalls the
 *   others), then lands them in one warehouse transaction with the partition's new offset,
 *   guarded by the offset it was cut from (a conflict re-reads and trims); refused data is
 *   split off and quarantined;
 * - Kafka offsets are committed only after the warehouse commits; on assignment the bus
 *   resumes after what the warehouse holds; redelivered offsets are skipped; a partition
 *   this member no longer owns is dropped, not landed;
 * - warehouse down: consumption pauses, readiness says degraded, flushes retry with
 *   backoff (re-reading the warehouse offsets first, in case a commit did land), and
 *   everything resumes on its own.
 */
export class SinkProcessor {
  private readonly runs = new Map<string, PartitionRun>();
  private subscription: Subscription | null = null;
  private cluster = '';
  private stopping = false;
  private readonly m: SinkMetrics;
  private readonly lander: Lander;
  private readonly outage: Outage;

  constructor(private readonly deps: SinkProcessorDeps) {
    this.m = sinkMetrics(deps.metrics);
    registerProgressMetrics(deps.metrics, { buffers: () => this.buffers(), wire: (t) => this.wire(t) });
    this.lander = new Lander(deps.warehouse, deps.logger);
    this.outage = new Outage({
      backoff: deps.retry,
      logger: deps.logger,
      description: deps.warehouse.description,
      ...(deps.onWarehouseStatus ? { onStatus: deps.onWarehouseStatus } : {}),
      pause: () => this.subscription?.pause(),
      tryAgain: () => this.retry(),
    });
  }

  /** Identifies the cluster, loads the warehouse offsets, subscribes to scores, shadow scores and dead letters. */
  async start(): Promise<void> {
    this.cluster = await this.deps.bus.clusterId();
    for (const topic of SUBSCRIBED) {
      for (const [partition, offset] of await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic))) {
        const run = this.run(topic, partition);
        run.buffer.reset(offset, Date.now());
        this.setOffsetGauge(run.buffer);
      }
    }
    this.subscription = await this.deps.bus.subscribe({
      groupId: this.deps.groupId,
      topics: [...SUBSCRIBED],
      autoCommit: false,
      handler: (batch) => this.handle(batch),
      onPartitionStart: (tp) => this.onPartitionStart(tp),
      ...(this.deps.maxBatchRecords ? { maxBatchRecords: this.deps.maxBatchRecords } : {}),
    });
  }

  /** Lands what is buffered (one attempt each), leaves the group, closes nothing it does not own. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const run of this.runs.values()) this.clearTimer(run);
    this.outage.stop();
    this.subscription?.pause();
    await this.flushAll('shutdown');
    await this.subscription?.stop();
    // Left the group: what lands now is guarded by the warehouse offset like any write.
    this.subscription = null;
    await this.flushAll('shutdown');
    const left = this.bufferedRecords();
    if (left > 0) this.deps.logger.warn({ records: left }, 'stopping with records not in the warehouse; they will be consumed again');
  }

  bufferedRecords(): number {
    let n = 0;
    for (const b of this.buffers()) n += b.pending;
    return n;
  }

  /** The partitions this member owns right now. */
  assignment(): TopicPartition[] {
    return this.subscription?.assignment() ?? [];
  }

  /** The warehouse offset the sink knows for a partition (-1: none). */
  landedOffset(topic: string, partition: number): bigint {
    return this.runs.get(tpKey(topic, partition))?.buffer.landed ?? -1n;
  }

  /** Readiness of the partitions: degraded, naming any that has records waiting and made no progress for SINK_STALL_MS. */
  partitionsStatus(): DependencyStatus {
    return partitionsStatus({ buffers: () => this.buffers(), wire: (t) => this.wire(t) }, this.deps.stallMs);
  }

  private *buffers(): Iterable<PartitionBuffer> {
    for (const run of this.runs.values()) yield run.buffer;
  }

  private run(topic: string, partition: number): PartitionRun {
    const key = tpKey(topic, partition);
    let run = this.runs.get(key);
    if (!run) {
      run = { buffer: new PartitionBuffer(topic, partition, Date.now()), timer: null, flushing: null };
      this.runs.set(key, run);
    }
    return run;
  }

  private wire(topic: string): string {
    return (this.deps.topicPrefix ?? '') + topic;
  }

  private setOffsetGauge(b: PartitionBuffer): void {
    this.m.offset.set({ topic: this.wire(b.topic), partition: String(b.partition) }, Number(b.landed));
  }

  /** Start (or restart) a partition from what the warehouse holds. */
  private async onPartitionStart({ topic, partition }: TopicPartition): Promise<{ resumeAt: string }> {
    const run = this.run(topic, partition);
    await run.flushing;
    let landed = run.buffer.landed;
    try {
      landed = (await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic))).get(partition) ?? -1n;
    } catch (err) {
      // The last known offset is still safe: the guarded write catches anything stale.
      this.deps.logger.warn({ err, topic, partition }, 'cannot read the warehouse offset; resuming from the last known one');
    }
    // Whatever was buffered is delivered again from here: start clean.
    this.clearTimer(run);
    run.buffer.reset(landed, Date.now());
    this.setOffsetGauge(run.buffer);
    return { resumeAt: String(landed + 1n) };
  }

  /** The bus handler: takes the records in; flushes when a buffer is full. Never throws on bad input. */
  async handle(batch: RecordBatch): Promise<void> {
    const run = this.run(batch.topic, batch.partition);
    const { accepted, skipped } = run.buffer.accept(batch.records, Date.now());
    if (skipped > 0) this.m.skipped.inc(skipped);
    if (accepted === 0) return;
    if (batch.topic === TOPICS.scores) this.m.events.inc(accepted);
    if (!this.outage.active && !this.stopping) {
      if (run.buffer.full(this.deps.flush)) {
        // Both slots taken (a write in flight and the next batch full): the bus waits with us.
        if (run.flushing) await run.flushing;
        const full = run.buffer.full(this.deps.flush);
        if (full && !run.flushing && !this.outage.active) void this.startFlush(run, full);
      }
      this.schedule(run);
    }
    this.applyBackpressure();
  }

  private clearTimer(run: PartitionRun): void {
    if (run.timer) clearTimeout(run.timer);
    run.timer = null;
  }

  /** Arms the partition's age timer: it fires SINK_FLUSH_MS after the buffer's first record. */
  private schedule(run: PartitionRun): void {
    if (run.timer || this.stopping) return;
    const at = run.buffer.dueAt(this.deps.flush);
    if (at === null) return;
    run.timer = setTimeout(() => this.onTimer(run), Math.max(0, at - Date.now()));
    run.timer.unref();
  }

  private onTimer(run: PartitionRun): void {
    run.timer = null;
    if (this.stopping || this.outage.active || run.flushing) return; // the end of the write, or the retry, picks it up
    const trigger = run.buffer.due(this.deps.flush, Date.now());
    if (trigger) void this.startFlush(run, trigger);
    else this.schedule(run);
  }

  /** One write per partition at a time; resolves true when the cut landed (or was dropped). */
  private startFlush(run: PartitionRun, trigger: FlushTrigger): Promise<boolean> {
    if (run.flushing) return run.flushing;
    this.clearTimer(run);
    const flushing = this.flush(run, trigger)
      .catch((err: unknown) => {
        this.deps.logger.error({ err }, 'flush failed unexpectedly');
        this.failed(err);
        return false;
      })
      .finally(() => {
        run.flushing = null;
        this.afterFlush(run);
      });
    run.flushing = flushing;
    return flushing;
  }

  /** The next batch may already be due (it filled while this one was written). */
  private afterFlush(run: PartitionRun): void {
    if (this.stopping || this.outage.active) return;
    const trigger = run.buffer.due(this.deps.flush, Date.now());
    if (trigger) void this.startFlush(run, trigger);
    else this.schedule(run);
    this.applyBackpressure();
  }

  private async flushAll(trigger: FlushTrigger): Promise<boolean> {
    let ok = true;
    for (const run of this.runs.values()) {
      await run.flushing;
      while (run.buffer.size > 0) {
        const before = run.buffer.size;
        if (!(await this.startFlush(run, trigger))) {
          ok = false;
          break;
        }
        if (run.buffer.size >= before) break;
      }
    }
    return ok;
  }

  private owns(b: PartitionBuffer): boolean {
    const sub = this.subscription;
    return sub !== null && sub.assignment().some((tp) => tp.topic === b.topic && tp.partition === b.partition);
  }

  private convert(b: PartitionBuffer, cut: Cut): Converted {
    const converted = convert(
      {
        cluster: this.cluster,
        topic: b.topic,
        wireTopic: this.wire(b.topic),
        partition: b.partition,
        maxAttempts: this.deps.recordMaxAttempts,
        deadLetterTopic: TOPICS.deadLetter,
        alertTopic: TOPICS.alerts,
        shadowScoreTopic: TOPICS.shadowScores,
        ...(this.deps.decodeScore ? { decodeScore: this.deps.decodeScore } : {}),
      },
      cut.records,
    );
    for (const d of converted.toTopic) this.m.deadLetters.inc({ reason: d.reason });
    if (converted.outOfBounds > 0) this.m.deadLetters.inc({ reason: 'warehouse_rejected' }, converted.outOfBounds);
    if (converted.processingErrors > 0) {
      this.m.deadLetters.inc({ reason: 'processing_error' }, converted.processingErrors);
      this.deps.logger.error({ topic: b.topic, partition: b.partition, records: converted.processingErrors }, 'records kept failing to convert: dead-lettered as processing_error');
    }
    if (converted.throws > 0) this.m.retries.inc(converted.throws);
    return converted;
  }

  /** Cuts the buffer and lands it: conflicts re-read and retry, anything else backs off. */
  private async flush(run: PartitionRun, trigger: FlushTrigger): Promise<boolean> {
    const b = run.buffer;
    if (trigger !== 'shutdown' && !this.owns(b)) {
      const dropped = b.drop();
      if (dropped > 0) {
        this.m.revoked.inc(dropped);
        this.deps.logger.info({ topic: b.topic, partition: b.partition, records: dropped }, 'partition assigned elsewhere: its buffered records are dropped, its next owner reads them again');
      }
      return true;
    }
    const cut = b.cut(this.deps.flush);
    if (!cut) return true;
    let converted: Converted | null = null;
    let produced = false;
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      try {
        converted ??= this.convert(b, cut);
        if (!produced && converted.toTopic.length > 0) {
          // Durable on the dead-letter topic before the offsets move past them (it lands in dead_letters from there).
          await this.deps.bus.produce(
            TOPICS.deadLetter,
            converted.toTopic.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })),
          );
          this.deps.logger.warn({ count: converted.toTopic.length, topic: b.topic, partition: b.partition }, 'dead-lettered severity scores');
        }
        produced = true;
        const items = converted.items.filter((i) => i.record.offset > b.landed);
        const started = performance.now();
        await this.lander.land({ cluster: this.cluster, topic: b.topic, wireTopic: this.wire(b.topic), partition: b.partition }, items, () => b.landed, (landed) =>
          this.onLanded(run, landed, trigger, started),
        );
        b.finish(cut);
        this.recovered();
        return true;
      } catch (err) {
        if (err instanceof OffsetConflictError) {
          this.m.failures.inc({ kind: 'offset_conflict' });
          this.deps.logger.warn({ topic: b.topic, partition: b.partition, err }, 'warehouse offset moved on (another writer, or an earlier commit landed): re-reading');
          try {
            await this.reconcile(b.topic);
          } catch (readErr) {
            b.restore(cut);
            this.failed(readErr);
            return false;
          }
          continue;
        }
        this.m.failures.inc({ kind: 'error' });
        b.restore(cut);
        this.failed(err);
        return false;
      }
    }
    b.restore(cut);
    this.failed(new Error(`${b.topic}[${b.partition}]: ${MAX_CONFLICTS} offset conflicts in a row (another writer keeps moving this partition)`));
    return false;
  }

  /** One committed transaction: the buffer moves on, the bus offset is committed, metrics and listeners hear of it. */
  private async onLanded(run: PartitionRun, landed: Landed, trigger: FlushTrigger, started: number): Promise<void> {
    const b = run.buffer;
    const { batch, result, committedAt } = landed;
    b.landedUpTo(batch.lastOffset, committedAt);
    this.setOffsetGauge(b);
    this.m.flushSeconds.observe((performance.now() - started) / 1000);
    this.m.flushes.inc({ trigger });
    this.m.rows.inc({ table: 'severity_scores' }, result.scoresInserted);
    this.m.rows.inc({ table: 'dead_letters' }, result.deadLettersInserted);
    this.m.rows.inc({ table: 'alerts' }, result.alertsInserted);
    if (result.shadowScoresInserted !== undefined) this.m.rows.inc({ table: 'shadow_scores' }, result.shadowScoresInserted);
    if (landed.refused > 0) {
      this.m.failures.inc({ kind: 'data' }, landed.refused);
      this.m.deadLetters.inc({ reason: 'warehouse_rejected' }, landed.refused - landed.unlandable);
    }
    for (const i of landed.items) this.m.delay.observe(Math.max(0, committedAt - i.record.timestamp) / 1000);
    await this.subscription?.commit([{ topic: b.topic, partition: b.partition, offset: String(batch.lastOffset + 1n) }]);
    this.deps.onLanded?.({
      topic: b.topic,
      partition: b.partition,
      records: landed.items.length,
      rowsInserted: result.scoresInserted + result.deadLettersInserted + result.alertsInserted + (result.shadowScoresInserted ?? 0),
      lastOffset: batch.lastOffset,
      committedAt,
      timestamps: landed.items.map((i) => i.record.timestamp),
      trigger,
    });
  }

  /** Re-reads what the warehouse holds for a topic and drops what is already there. */
  private async reconcile(topic: string): Promise<void> {
    const offsets = await this.deps.warehouse.landedOffsets(this.cluster, this.wire(topic));
    const now = Date.now();
    for (const run of this.runs.values()) {
      if (run.buffer.topic !== topic) continue;
      run.buffer.landedUpTo(offsets.get(run.buffer.partition) ?? -1n, now);
      this.setOffsetGauge(run.buffer);
    }
  }

  /** A write failed for another reason than a conflict: the warehouse is down (see outage.ts). */
  private failed(err: unknown): void {
    this.outage.failed(err);
  }

  /** After the backoff: re-read the warehouse (a commit whose answer was lost may have landed), then write what is buffered. */
  private async retry(): Promise<void> {
    if (!this.outage.active || this.stopping) return;
    try {
      for (const topic of SUBSCRIBED) await this.reconcile(topic);
    } catch (err) {
      this.m.failures.inc({ kind: 'error' });
      this.failed(err);
      return;
    }
    const ok = await this.flushAll('retry');
    if (ok) this.recovered();
  }

  /** A write landed while the warehouse was failing: everything moves again. */
  private recovered(): void {
    if (!this.outage.recovered()) return;
    for (const run of this.runs.values()) if (!run.flushing) this.afterFlush(run);
    this.applyBackpressure();
  }

  /** Paused while the warehouse fails or the buffers hold too many bytes; resumed otherwise. */
  private applyBackpressure(): void {
    const sub = this.subscription;
    if (!sub || this.stopping) return;
    let bytes = 0;
    for (const b of this.buffers()) bytes += b.heldBytes;
    const overMemory = bytes > this.deps.maxBufferedBytes;
    if (this.outage.active || overMemory) {
      if (!sub.paused) sub.pause();
      if (overMemory && !this.outage.active) {
        for (const run of this.runs.values()) if (run.buffer.size > 0 && !run.flushing) void this.startFlush(run, 'bytes');
      }
    } else if (sub.paused) {
      sub.resume();
    }
  }
}
