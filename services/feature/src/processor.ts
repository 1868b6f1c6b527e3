import type { Bus, HandlerContext, OutgoingRecord, RecordBatch, Subscription } from '@ehr/bus';
import {
  buildDeadLetter,
  decodeRawEvent,
  encodeState,
  peekIds,
  processEvent,
  serializeFeatureVector,
  TOPICS,
  type DeadLetter,
  type EngineOptions,
} from '@ehr/features';
import { Counter, Gauge, type Logger, type Registry } from '@ehr/runtime';
import { offsetKey, restoreState, type RestoredPartition } from './changelog.js';
import { PartitionState } from './partition-state.js';

export interface FeatureProcessorOptions {
  engine: EngineOptions;
  /** Keep state in the compacted changelog (restart and rebalance survive); off: state is in memory only. */
  changelog: boolean;
  changelogPartitions: number;
  groupId: string;
  checkpointIntervalMs: number;
  checkpointMaxEvents: number;
  restoreTimeoutMs: number;
}

export interface FeatureProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  options: FeatureProcessorOptions;
  /** Told when a restore starts and ends (readiness). */
  onRestoring?: (restoring: boolean) => void;
}

const SERVICE = 'feature';
/** Eviction scans a partition's patients: do it every so many events, not every batch. */
const EVICT_EVERY = 4096;

/**
 * Raw events in; feature vectors, dead letters and state checkpoints out. Every consumed
 * record ends as exactly one of: featurized (accepted into the state; it may or may not
 * emit a vector, per the trigger/debounce policy), dead-lettered (with the reason and
 * the bytes), or a duplicate (ignored). Records a restored state already includes are
 * skipped and counted apart.
 */
export function createFeatureProcessor({ bus, logger, metrics, options, onRestoring }: FeatureProcessorDeps) {
  const registers = [metrics];
  const events = new Counter({ name: 'ehr_feature_events_total', help: 'raw events processed (= featurized + dead-lettered + duplicates)', registers });
  const featurized = new Counter({ name: 'ehr_feature_featurized_total', help: 'events accepted into a patient state', registers });
  const vectors = new Counter({ name: 'ehr_feature_vectors_total', help: 'feature vectors emitted', registers });
  const duplicates = new Counter({ name: 'ehr_feature_duplicates_total', help: 'events ignored as duplicates (same event id)', registers });
  const deadLetters = new Counter({ name: 'ehr_feature_dead_letters_total', help: 'raw events rejected, by reason', labelNames: ['reason'], registers });
  const corrections = new Counter({ name: 'ehr_feature_corrections_total', help: 'values repaired while cleaning, by kind', labelNames: ['kind'], registers });
  const skipped = new Counter({ name: 'ehr_feature_replayed_skipped_total', help: 'redelivered records the restored state already included', registers });
  const restores = new Counter({ name: 'ehr_feature_state_restores_total', help: 'state restores from the changelog', registers });
  const checkpoints = new Counter({ name: 'ehr_feature_checkpoints_total', help: 'partition checkpoints (changelog written, offset committed)', registers });
  const changelogRecords = new Counter({ name: 'ehr_feature_changelog_records_total', help: 'patient snapshots and evictions written to the changelog', registers });
  const evicted = new Counter({ name: 'ehr_feature_evicted_patients_total', help: 'patient states dropped (discharged long enough ago, or silent)', registers });

  const partitions = new Map<number, PartitionState>();
  /**
   * The changelog as last read, for partitions not started yet. An entry may be stale (the
   * partition moved on elsewhere since): the offset check in `partitionFor` catches that,
   * because a partition's committed offset never passes the offset stored with its states.
   */
  let pool: Map<number, RestoredPartition> | null = null;
  let subscription: Subscription | null = null;
  let lastAssignment = '';

  new Gauge({
    name: 'ehr_feature_state_patients',
    help: 'patients held in state, by status',
    labelNames: ['status'],
    registers,
    collect() {
      let active = 0;
      let discharged = 0;
      for (const p of partitions.values()) {
        for (const s of p.states.values()) {
          if (Number.isNaN(s.dischargedAt)) active++;
          else discharged++;
        }
      }
      this.set({ status: 'active' }, active);
      this.set({ status: 'discharged' }, discharged);
    },
  });
  new Gauge({
    name: 'ehr_feature_state_bytes',
    help: 'approximate bytes of patient state held',
    registers,
    collect() {
      let bytes = 0;
      for (const p of partitions.values()) bytes += p.bytes();
      this.set(bytes);
    },
  });
  new Gauge({ name: 'ehr_feature_consumer_lag_records', help: 'raw events behind the high watermark on owned partitions', registers, collect() { this.set(subscription?.lag() ?? 0); } });

  async function restore(heartbeat?: () => Promise<void>): Promise<Map<number, RestoredPartition>> {
    if (!options.changelog) return new Map();
    onRestoring?.(true);
    const started = Date.now();
    try {
      const restored = await restoreState({
        bus,
        logger,
        changelogPartitions: options.changelogPartitions,
        groupPrefix: options.groupId,
        timeoutMs: options.restoreTimeoutMs,
        ...(heartbeat ? { heartbeat } : {}),
      });
      restores.inc();
      const patients = [...restored.values()].reduce((n, r) => n + r.states.size, 0);
      logger.info({ partitions: restored.size, patients, ms: Date.now() - started }, 'state restored from the changelog');
      return restored;
    } finally {
      onRestoring?.(false);
    }
  }

  /** Forgets partitions this member no longer owns (another member rebuilds them from the changelog). */
  function syncAssignment(): void {
    if (!subscription) return;
    const owned = subscription.assignment().filter((tp) => tp.topic === TOPICS.events).map((tp) => tp.partition);
    const signature = owned.join(',');
    if (signature === lastAssignment) return;
    lastAssignment = signature;
    for (const p of partitions.keys()) if (!owned.includes(p)) partitions.delete(p);
    if (pool && owned.length > 0) for (const p of pool.keys()) if (!owned.includes(p)) pool.delete(p);
  }

  async function reread(context?: HandlerContext, forPartition?: number): Promise<void> {
    pool = await restore(context ? () => context.heartbeat() : undefined);
    // Partitions already running have their state in hand: do not hold a second copy.
    for (const p of partitions.keys()) if (p !== forPartition) pool.delete(p);
  }

  /** A partition's state from the last read of the changelog (nothing stored: it starts at offset 0). */
  function fromPool(partition: number): PartitionState {
    const restored = pool?.get(partition);
    pool?.delete(partition);
    return new PartitionState(partition, restored?.states, restored?.nextOffset ?? (options.changelog ? 0n : null));
  }

  async function partitionFor(partition: number, firstOffset: bigint, context: HandlerContext): Promise<PartitionState> {
    let state = partitions.get(partition);
    if (!state) {
      if (options.changelog && !pool) await reread(context, partition);
      state = fromPool(partition);
    }
    // Records we have not seen were processed by someone else: our state is stale.
    if (state.lastApplied !== null && firstOffset > state.lastApplied + 1n && options.changelog) {
      logger.info({ partition, firstOffset: String(firstOffset), lastApplied: String(state.lastApplied) }, 'partition moved on elsewhere; restoring its state');
      await reread(context, partition);
      state = fromPool(partition);
      if (state.lastApplied !== null && firstOffset > state.lastApplied + 1n) {
        logger.warn({ partition, firstOffset: String(firstOffset) }, 'the changelog has no state up to the committed offset (new changelog, or input trimmed): continuing from what it has');
        state.lastApplied = null;
      }
    }
    partitions.set(partition, state);
    return state;
  }

  async function checkpoint(state: PartitionState): Promise<void> {
    if (state.lastApplied === null) return;
    const nextOffset = String(state.lastApplied + 1n);
    if (options.changelog) {
      const records: OutgoingRecord[] = [];
      for (const id of state.dirty) {
        const s = state.states.get(id);
        records.push({ key: id, value: s ? encodeState(s, { partition: state.partition }) : Buffer.alloc(0) });
      }
      await bus.produce(TOPICS.featureState, records);
      await bus.produce(TOPICS.featureState, [{ key: offsetKey(state.partition), value: JSON.stringify({ partition: state.partition, nextOffset }) }]);
      changelogRecords.inc(records.length);
    }
    await subscription?.commit([{ topic: TOPICS.events, partition: state.partition, offset: nextOffset }]);
    state.dirty.clear();
    state.eventsSinceCheckpoint = 0;
    state.lastCheckpointAt = Date.now();
    checkpoints.inc();
  }

  function checkpointDue(state: PartitionState): boolean {
    if (!options.changelog) return true; // nothing to write: commit every batch
    return state.eventsSinceCheckpoint >= options.checkpointMaxEvents || Date.now() - state.lastCheckpointAt >= options.checkpointIntervalMs;
  }

  return {
    attach(s: Subscription): void {
      subscription = s;
    },

    /** Reads the changelog before consuming, so that readiness means "state restored". */
    async restoreAtStart(): Promise<void> {
      if (options.changelog) await reread();
    },

    async handle(batch: RecordBatch, context: HandlerContext): Promise<void> {
      syncAssignment();
      if (batch.records.length === 0) return;
      const state = await partitionFor(batch.partition, BigInt(batch.records[0]!.offset), context);
      const from = state.lastApplied;
      const records = from === null ? batch.records : batch.records.filter((r) => BigInt(r.offset) > from);
      skipped.inc(batch.records.length - records.length);
      if (records.length === 0) return;

      const tx = state.begin();
      const out: OutgoingRecord[] = [];
      const letters: DeadLetter[] = [];
      let accepted = 0;
      let dups = 0;
      const fixes: string[] = [];
      for (const record of records) {
        const decoded = decodeRawEvent(record.value);
        if (!decoded.ok) {
          const ids = decoded.reason === 'unparseable' ? {} : peekIds(safeJson(record.value));
          letters.push(buildDeadLetter(record, { service: SERVICE, reason: decoded.reason, error: decoded.error, issues: decoded.issues, ...ids }));
          continue;
        }
        const outcome = processEvent(tx, decoded.value, options.engine);
        if (outcome.kind === 'duplicate') dups++;
        else if (outcome.kind === 'rejected') {
          const { patientId, eventId } = outcome.event;
          letters.push(buildDeadLetter(record, { service: SERVICE, reason: outcome.reason, error: outcome.error, issues: outcome.issues, patientId, originalEventId: eventId }));
        } else {
          accepted++;
          tx.accepted(Date.parse(outcome.event.occurredAt));
          if (outcome.correction) fixes.push(outcome.correction);
          if (outcome.vector) out.push({ key: outcome.vector.patientId, value: serializeFeatureVector(outcome.vector) });
        }
      }
      // Output first; only then does the state move on (a failure here redelivers the batch to the old state).
      await Promise.all([
        bus.produce(TOPICS.features, out),
        bus.produce(TOPICS.deadLetter, letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) }))),
      ]);
      tx.commit(BigInt(records[records.length - 1]!.offset), records.length);
      events.inc(records.length);
      featurized.inc(accepted);
      vectors.inc(out.length);
      duplicates.inc(dups);
      for (const d of letters) deadLetters.inc({ reason: d.reason });
      for (const kind of fixes) corrections.inc({ kind });
      if (letters.length > 0) logger.info({ count: letters.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered raw events (see ehr_feature_dead_letters_total by reason)');
      state.eventsSinceEviction += records.length;
      if (state.eventsSinceEviction >= EVICT_EVERY) {
        state.eventsSinceEviction = 0;
        evicted.inc(state.evict(options.engine));
      }

      if (checkpointDue(state)) {
        try {
          await checkpoint(state);
        } catch (err) {
          // Not fatal: the output is out; the next batch tries again, a restart replays a little more.
          logger.warn({ err, partition: batch.partition }, 'checkpoint failed; will retry');
        }
      }
    },

    /** Writes and commits every owned partition (graceful stop, after consuming has paused). */
    async checkpointAll(): Promise<void> {
      syncAssignment();
      for (const state of partitions.values()) if (state.dirty.size > 0 || state.eventsSinceCheckpoint > 0) await checkpoint(state);
    },

    /** For tests and the bench: the live state. */
    partitions,
  };
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString()) as unknown;
  } catch {
    return null;
  }
}

export type FeatureProcessor = ReturnType<typeof createFeatureProcessor>;
