import type { Bus, BusRecord, HandlerContext, OutgoingRecord, RecordBatch, RecordIsolation, Subscription } from '@ehr/bus';
import {
  buildDeadLetter,
  decodeRawEvent,
  futureEventProblem,
  peekIds,
  processEvent,
  encodeFeatureVectorDraft,
  FEATURE_COUNT,
  TOPICS,
  type DeadLetter,
  type EngineOptions,
} from '@ehr/features';
import { Counter, Gauge, type Logger, type Registry } from '@ehr/runtime';
import { restoreState, type RestoredPartition } from './changelog.js';
import { encodePatient, offsetRecord, partTombstones, type SkipKind } from './changelog-records.js';
import { PartitionState, type PartitionTransaction } from './partition-state.js';

export interface FeatureProcessorOptions {
  engine: EngineOptions;
  /** Keep state in the compacted changelog (restart and rebalance survive); off: state is in memory only. */
  changelog: boolean;
  changelogPartitions: number;
  groupId: string;
  checkpointIntervalMs: number;
  checkpointMaxEvents: number;
  restoreTimeoutMs: number;
  /** Events dated further ahead of the wall clock are dead-lettered as future_event. */
  maxFutureSkewMs: number;
  /** Active patients held by this instance; past it the least recently touched are evicted. */
  maxPatients: number;
  /** Bytes of state held by this instance (`stateBytes`); past it the least recently touched are evicted. Default: no bound. */
  maxStateBytes?: number;
}

export interface FeatureProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  options: FeatureProcessorOptions;
  /** Isolates a record that throws (dead-lettered as processing_error after its attempts). */
  isolation: RecordIsolation;
  /** Told when a restore starts and ends (readiness). */
  onRestoring?: (restoring: boolean) => void;
  /** The wall clock (future events, the watermark bound). */
  now?: () => number;
  /** The feature engine (default `processEvent`); a test wraps it to make one record throw. */
  engine?: typeof processEvent;
}

const SERVICE = 'feature';
/** Patients encoded and written per produce call of a checkpoint (bounded memory). */
const CHECKPOINT_SLICE = 1_000;
/** Eviction scans a partition's patients: do it every so many events, not every batch. */
const EVICT_EVERY = 4096;

/**
 * Raw events in; feature vectors, dead letters and state checkpoints out. Every consumed
 * record ends as exactly one of: featurized (accepted into the state; it may or may not
 * emit a vector, per the trigger/debounce policy), dead-lettered (with the reason and
 * the bytes), or a duplicate (ignored). Records a restored state already includes are
 * skipped and counted apart.
 */
export function createFeatureProcessor({ bus, logger, metrics, options, isolation, onRestoring, now = Date.now, engine = processEvent }: FeatureProcessorDeps) {
  const registers = [metrics];
  const events = new Counter({ name: 'ehr_feature_events_total', help: 'raw events processed (= featurized + dead-lettered + duplicates)', registers });
  const featurized = new Counter({ name: 'ehr_feature_featurized_total', help: 'events accepted into a patient state', registers });
  const vectors = new Counter({ name: 'ehr_feature_vectors_total', help: 'feature vectors emitted', registers });
  const duplicates = new Counter({ name: 'ehr_feature_duplicates_total', help: 'events ignored as duplicates (same event id)', registers });
  const deadLetters = new Counter({ name: 'ehr_feature_dead_letters_total', help: 'raw events rejected, by reason', labelNames: ['reason'], registers });
  const corrections = new Counter({ name: 'ehr_feature_corrections_total', help: 'values repaired while cleaning, by kind', labelNames: ['kind'], registers });
  const skipped = new Counter({ name: 'ehr_feature_replayed_skipped_total', help: 'redelivered records the restored state already included', registers });
  const offsetsDistrusted = new Counter({ name: 'ehr_feature_changelog_offsets_distrusted_total', help: 'stored input offsets at or past their partition\'s end, not believed (topic recreated, or a changelog written by hand)', registers });
  const restores = new Counter({ name: 'ehr_feature_state_restores_total', help: 'state restores from the changelog', registers });
  const checkpoints = new Counter({ name: 'ehr_feature_checkpoints_total', help: 'partition checkpoints (changelog written, offset committed)', registers });
  const changelogRecords = new Counter({ name: 'ehr_feature_changelog_records_total', help: 'patient snapshots and evictions written to the changelog', registers });
  const evicted = new Counter({ name: 'ehr_feature_evicted_patients_total', help: 'patient states dropped: discharged long enough ago, or silent (reason retention); past FEATURE_MAX_PATIENTS (reason cap); past FEATURE_MAX_STATE_BYTES (reason bytes)', labelNames: ['reason'], registers });
  const changelogSkipped = new Counter({ name: 'ehr_feature_changelog_skipped_total', help: 'changelog records that did not check out on restore and were skipped, by kind', labelNames: ['kind'], registers });
  let capWarnedAt = 0;
  let budgetCheckedAt = 0;
  let budgetWarnedAt = 0;
  /** Part records no state points at (found on restore): removed by the next checkpoint. */
  let orphanParts: string[] = [];

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
        onSkipped: (kind: SkipKind) => changelogSkipped.inc({ kind }),
        ...(heartbeat ? { heartbeat } : {}),
      });
      restores.inc();
      orphanParts = [...new Set([...orphanParts, ...restored.orphanParts])];
      const patients = [...restored.partitions.values()].reduce((n, r) => n + r.states.size, 0);
      logger.info({ partitions: restored.partitions.size, patients, ms: Date.now() - started }, 'state restored from the changelog');
      return restored.partitions;
    } finally {
      onRestoring?.(false);
    }
  }

  /** The events partitions this member owns, or null before it knows (no subscription, or no assignment yet). */
  function ownedPartitions(): number[] | null {
    const owned = subscription?.assignment().filter((tp) => tp.topic === TOPICS.events).map((tp) => tp.partition) ?? [];
    return owned.length > 0 ? owned : null;
  }

  /** Forgets partitions this member no longer owns (another member rebuilds them from the changelog). */
  function syncAssignment(): void {
    if (!subscription) return;
    const owned = ownedPartitions();
    const signature = owned?.join(',') ?? '';
    if (signature === lastAssignment) return;
    lastAssignment = signature;
    for (const p of partitions.keys()) if (!owned?.includes(p)) partitions.delete(p);
    if (pool && owned) for (const p of pool.keys()) if (!owned.includes(p)) pool.delete(p);
  }

  async function reread(context?: HandlerContext, forPartition?: number): Promise<void> {
    pool = await restore(context ? () => context.heartbeat() : undefined);
    // Partitions already running have their state in hand, and other members' partitions are
    // theirs: hold neither. A reread mid-run (a partition that moved on elsewhere) reads every
    // partition's patients, and nothing else would drop the others' until the next rebalance.
    const owned = ownedPartitions();
    for (const p of pool.keys()) if (p !== forPartition && (partitions.has(p) || (owned !== null && !owned.includes(p)))) pool.delete(p);
  }

  /** A partition's state from the last read of the changelog (nothing stored: it starts at offset 0). */
  function fromPool(partition: number): PartitionState {
    const restored = pool?.get(partition);
    pool?.delete(partition);
    return new PartitionState(partition, restored?.states, restored?.nextOffset ?? (options.changelog ? 0n : null), restored?.stored, now());
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
    // A partition that moved to another member is that member's to write: this state is older
    // than what it checkpoints, and written after it, compaction would keep ours.
    const owned = ownedPartitions();
    if (subscription && owned !== null && !owned.includes(state.partition)) {
      partitions.delete(state.partition);
      return;
    }
    const nextOffset = state.lastApplied + 1n;
    if (options.changelog) {
      // Parts first, then the states that point at them, then what no state points at any
      // more, then the offset: a crash between any two leaves a changelog that restores.
      // In slices of patients: encoding 20,000 states at once would hold them all in memory.
      const tombstones: OutgoingRecord[] = orphanParts.map((key) => ({ key, value: Buffer.alloc(0) }));
      const dirty = [...state.dirty];
      for (let i = 0; i < dirty.length; i += CHECKPOINT_SLICE) {
        const parts: OutgoingRecord[] = [];
        const heads: OutgoingRecord[] = [];
        for (const id of dirty.slice(i, i + CHECKPOINT_SLICE)) {
          const s = state.states.get(id);
          const previous = state.stored.get(id);
          const encoded = s ? encodePatient(id, s, state.partition) : null;
          heads.push(encoded?.head ?? { key: id, value: Buffer.alloc(0) });
          if (encoded) parts.push(...encoded.parts);
          if (previous && previous.version !== encoded?.stored?.version) tombstones.push(...partTombstones(id, previous));
          if (encoded?.stored) state.stored.set(id, encoded.stored);
          else state.stored.delete(id);
        }
        await bus.produce(TOPICS.featureState, parts);
        await bus.produce(TOPICS.featureState, heads);
        changelogRecords.inc(heads.length + parts.length);
      }
      await bus.produce(TOPICS.featureState, tombstones);
      orphanParts = [];
      await bus.produce(TOPICS.featureState, [offsetRecord(state.partition, nextOffset)]);
    }
    await subscription?.commit([{ topic: TOPICS.events, partition: state.partition, offset: String(nextOffset) }]);
    state.dirty.clear();
    state.eventsSinceCheckpoint = 0;
    state.lastCheckpointAt = Date.now();
    checkpoints.inc();
  }

  /** Active patients over the cap: the least recently touched go (the largest partitions first). */
  function enforcePatientCap(): void {
    let total = 0;
    for (const p of partitions.values()) total += p.states.size;
    if (total <= options.maxPatients) return;
    // A little below the cap, so that the sweep is not repeated on every new patient.
    let excess = total - Math.floor(options.maxPatients * 0.98);
    let dropped = 0;
    for (const p of [...partitions.values()].sort((a, b) => b.states.size - a.states.size)) {
      if (excess <= 0) break;
      const n = p.evictLeastRecent(Math.min(excess, p.states.size));
      excess -= n;
      dropped += n;
    }
    evicted.inc({ reason: 'cap' }, dropped);
    if (Date.now() - capWarnedAt > 60_000) {
      capWarnedAt = Date.now();
      logger.warn({ maxPatients: options.maxPatients, held: total, evicted: dropped }, 'the active-patient cap (FEATURE_MAX_PATIENTS) bites: the least recently seen patients were evicted; their next event starts a new state');
    }
  }

  /**
   * Held state over the byte budget: the least recently touched go, from the partitions
   * holding the most. The patient cap counts patients, and a few of them fed thousands of
   * readings each (up to 8,192 points a signal, 20,000 event ids) held megabytes apiece: a
   * hundred such filled the heap long before the cap. Walking every patient's size costs
   * about a millisecond per 10,000, so it is checked at most once a second.
   */
  function enforceStateBudget(): void {
    const budget = options.maxStateBytes;
    if (budget === undefined || Date.now() - budgetCheckedAt < 1_000) return;
    budgetCheckedAt = Date.now();
    const held = [...partitions.values()].map((p) => ({ p, bytes: p.bytes() }));
    let total = held.reduce((n, h) => n + h.bytes, 0);
    if (total <= budget) return;
    const before = total;
    // Well below the budget, so that the sweep is not repeated on every batch.
    const target = Math.floor(budget * 0.9);
    let dropped = 0;
    for (const h of held.sort((a, b) => b.bytes - a.bytes)) {
      while (total > target && h.p.states.size > 0) {
        total -= h.p.evictOldest();
        dropped++;
      }
    }
    evicted.inc({ reason: 'bytes' }, dropped);
    if (Date.now() - budgetWarnedAt > 60_000) {
      budgetWarnedAt = Date.now();
      logger.warn({ maxStateBytes: budget, heldBytes: before, evicted: dropped }, 'the state budget (FEATURE_MAX_STATE_BYTES) bites: the least recently seen patients were evicted; their next event starts a new state');
    }
  }

  const vectorScratch = new Float64Array(FEATURE_COUNT);

  /** One record through decode, the time bound and the engine; what comes of it is pushed to `out`/`letters`. */
  function processRecord(record: BusRecord, tx: PartitionTransaction, tally: Tally): void {
    const decoded = decodeRawEvent(record.value);
    if (!decoded.ok) {
      const ids = decoded.reason === 'unparseable' ? {} : peekIds(safeJson(record.value));
      tally.letters.push(buildDeadLetter(record, { service: SERVICE, reason: decoded.reason, error: decoded.error, issues: decoded.issues, ...ids }));
      return;
    }
    const event = decoded.value;
    const wall = now();
    const future = futureEventProblem(event.occurredAt, wall, options.maxFutureSkewMs);
    if (future) {
      tally.letters.push(buildDeadLetter(record, { service: SERVICE, ...future, patientId: event.patientId, originalEventId: event.eventId }));
      return;
    }
    // The vector is encoded below before the next event: one array serves them all.
    const outcome = engine(tx, event, options.engine, vectorScratch);
    if (outcome.kind === 'duplicate') tally.duplicates++;
    else if (outcome.kind === 'rejected') {
      const { patientId, eventId } = outcome.event;
      tally.letters.push(buildDeadLetter(record, { service: SERVICE, reason: outcome.reason, error: outcome.error, issues: outcome.issues, patientId, originalEventId: eventId }));
    } else {
      tally.accepted++;
      tx.accepted(Date.parse(outcome.event.occurredAt), wall);
      if (outcome.correction) tally.fixes.push(outcome.correction);
      if (outcome.vector) tally.out.push({ key: outcome.vector.patientId, value: encodeFeatureVectorDraft(outcome.vector) });
    }
  }

  function checkpointDue(state: PartitionState): boolean {
    if (!options.changelog) return true; // nothing to write: commit every batch
    return state.eventsSinceCheckpoint >= options.checkpointMaxEvents || Date.now() - state.lastCheckpointAt >= options.checkpointIntervalMs;
  }

  /**
   * A stored offset at or past the partition's end was never applied here: the events topic
   * was recreated (its offsets start at 0 again) or the changelog was written by hand. Trusted,
   * every record would count as already included and be dropped, with nothing dead-lettered
   * and readiness still up. The patients' states stay; their event ids still drop true copies.
   */
  function distrustOffsetPastEnd(state: PartitionState, highWatermark: string): void {
    if (state.lastApplied === null || !/^\d{1,19}$/.test(highWatermark) || state.lastApplied < BigInt(highWatermark)) return;
    logger.warn(
      { partition: state.partition, lastApplied: String(state.lastApplied), highWatermark },
      'the changelog says this partition was applied past its end (topic recreated, or a changelog written by hand): reading it from where the group is',
    );
    offsetsDistrusted.inc();
    state.lastApplied = null;
  }

  async function handleBatch(batch: RecordBatch, context: HandlerContext): Promise<void> {
    syncAssignment();
    if (batch.records.length === 0) return;
    const state = await partitionFor(batch.partition, BigInt(batch.records[0]!.offset), context);
    distrustOffsetPastEnd(state, batch.highWatermark);
    const from = state.lastApplied;
    // A batch is in offset order: when its first record is new, all are (no BigInt per record).
    const records = from === null || BigInt(batch.records[0]!.offset) > from ? batch.records : batch.records.filter((r) => BigInt(r.offset) > from);
    skipped.inc(batch.records.length - records.length);
    if (records.length === 0) return;

    const tx = state.begin();
    const tally: Tally = { out: [], letters: [], accepted: 0, duplicates: 0, fixes: [] };
    let added: number;
    try {
      for (const record of records) {
        const verdict = isolation.verdict(record);
        if (verdict.isolate) {
          // It threw on every attempt: dead-letter it whole, and let the partition move on.
          const ids = peekIds(safeJson(record.value));
          tally.letters.push(buildDeadLetter(record, { service: SERVICE, reason: 'processing_error', error: `threw on each of ${verdict.attempts} attempts: ${verdict.error}`, ...ids }));
          continue;
        }
        // A throw here fails the batch: it is rolled back and redelivered.
        isolation.run(record, () => processRecord(record, tx, tally));
      }
      // Output first; only then does the state move on (a failure here redelivers the batch to the old state).
      await Promise.all([
        bus.produce(TOPICS.features, tally.out),
        bus.produce(TOPICS.deadLetter, tally.letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) }))),
      ]);
      added = tx.added;
      tx.commit(BigInt(records[records.length - 1]!.offset), records.length);
    } catch (err) {
      // Every patient the batch touched goes back to how it was; the batch is redelivered.
      tx.rollback();
      throw err;
    }
    const { out, letters, fixes } = tally;
    isolation.settled(records);
    events.inc(records.length);
    featurized.inc(tally.accepted);
    vectors.inc(out.length);
    duplicates.inc(tally.duplicates);
    for (const d of letters) deadLetters.inc({ reason: d.reason });
    for (const kind of fixes) corrections.inc({ kind });
    if (letters.length > 0) logger.info({ count: letters.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered raw events (see ehr_feature_dead_letters_total by reason)');
    state.eventsSinceEviction += records.length;
    if (state.eventsSinceEviction >= EVICT_EVERY) {
      state.eventsSinceEviction = 0;
      evicted.inc({ reason: 'retention' }, state.evict(options.engine));
    }
    if (added > 0) enforcePatientCap();
    enforceStateBudget();

    if (checkpointDue(state)) {
      try {
        await checkpoint(state);
      } catch (err) {
        // Not fatal: the output is out; the next batch tries again, a restart replays a little more.
        logger.warn({ err, partition: batch.partition }, 'checkpoint failed; will retry');
      }
    }
  }

  /** Runs `work` after whatever runs now (batches and idle checkpoints take turns). */
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = turn.then(work, work);
    turn = result.catch(() => undefined);
    return result;
  }
  let idleTimer: NodeJS.Timeout | null = null;

  return {
    attach(s: Subscription): void {
      subscription = s;
    },

    /** Reads the changelog before consuming, so that readiness means "state restored". */
    async restoreAtStart(): Promise<void> {
      if (options.changelog) await reread();
    },

    /** One batch; never at the same time as an idle checkpoint (both touch the partition's state). */
    handle(batch: RecordBatch, context: HandlerContext): Promise<void> {
      return exclusive(() => handleBatch(batch, context));
    },

    /**
     * Checkpoints partitions that went quiet with work not yet written: without it, the last
     * events before a pause would stay uncommitted (and count as lag) until the next batch.
     */
    startIdleCheckpoints(): void {
      if (idleTimer) return;
      const every = Math.max(options.checkpointIntervalMs, 100);
      idleTimer = setInterval(() => {
        void exclusive(async () => {
          // A rebalance may have moved partitions away since the last batch: never checkpoint those.
          syncAssignment();
          for (const state of partitions.values()) {
            const pending = state.dirty.size > 0 || state.eventsSinceCheckpoint > 0;
            if (pending && Date.now() - state.lastCheckpointAt >= options.checkpointIntervalMs) await checkpoint(state);
          }
        }).catch((err: unknown) => logger.warn({ err }, 'idle checkpoint failed; will retry'));
      }, every);
      idleTimer.unref();
    },

    stopIdleCheckpoints(): void {
      if (idleTimer) clearInterval(idleTimer);
      idleTimer = null;
    },
    /** Writes and commits every owned partition (graceful stop, after consuming has paused). */
    checkpointAll(): Promise<void> {
      return exclusive(async () => {
        syncAssignment();
        for (const state of partitions.values()) if (state.dirty.size > 0 || state.eventsSinceCheckpoint > 0) await checkpoint(state);
      });
    },

    /** For tests and the bench: the live state. */
    partitions,
    /** For tests: partitions read from the changelog and held for this member, not running yet. */
    pooled: (): number[] => [...(pool?.keys() ?? [])],
  };
}

interface Tally {
  out: OutgoingRecord[];
  letters: DeadLetter[];
  accepted: number;
  duplicates: number;
  fixes: string[];
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString()) as unknown;
  } catch {
    return null;
  }
}

export type FeatureProcessor = ReturnType<typeof createFeatureProcessor>;
