// The feature service's state lives in a compacted topic keyed by patient id: the latest
// snapshot of each patient, an empty value once evicted, and per input partition the
// offset the snapshots reflect (records under "#": see changelog-records.ts). Restoring
// reads the topic up to markers this reader writes itself, because the bus offers no "end
// offsets" call and an empty partition would otherwise never say that it is done.
import { randomUUID } from 'node:crypto';
import { partitionForKey, type Bus, type BusRecord, type OutgoingRecord } from '@ehr/bus';
import { TOPICS, type PatientState } from '@ehr/features';
import type { Logger } from '@ehr/runtime';
import { MARKER_PREFIX, readChangelog, type SkipKind, type StoredParts } from './changelog-records.js';

/** A key that the default partitioner puts on `partition` of `partitions`. */
export function keyForPartition(prefix: string, partition: number, partitions: number): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${partition}.${i}`;
    if (partitionForKey(key, partitions) === partition) return key;
  }
}

/** What one input partition's state was when last checkpointed. */
export interface RestoredPartition {
  states: Map<string, PatientState>;
  /** The next input offset the states do not include (null if it was never checkpointed). */
  nextOffset: bigint | null;
  /** Its patients whose state is stored in parts. */
  stored: Map<string, StoredParts>;
}

export interface Restored {
  partitions: Map<number, RestoredPartition>;
  /** Part records no state points at any more: the next checkpoint removes them. */
  orphanParts: string[];
}

export interface RestoreOptions {
  bus: Bus;
  logger: Logger;
  /** Partitions of the changelog topic (markers go to each). */
  changelogPartitions: number;
  groupPrefix: string;
  timeoutMs: number;
  /** Keeps the caller's own consumer alive during a long restore. */
  heartbeat?: () => Promise<void>;
  /** Told about every record that did not check out (it was skipped). */
  onSkipped?: (kind: SkipKind) => void;
}

/** Reads the whole changelog and returns the state of every input partition found in it. */
export async function restoreState(options: RestoreOptions): Promise<Restored> {
  const { bus, changelogPartitions } = options;
  const nonce = randomUUID();
  const latest = new Map<string, BusRecord>();
  const pending = new Set(Array.from({ length: changelogPartitions }, (_, p) => p));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const subscription = await bus.subscribe({
    groupId: `${options.groupPrefix}-restore-${nonce}`,
    topics: [TOPICS.featureState],
    fromBeginning: true,
    autoCommit: false,
    maxBatchRecords: 5000,
    handler: async ({ partition, records }) => {
      if (!pending.has(partition)) return;
      for (const r of records) {
        if (r.key?.startsWith(MARKER_PREFIX)) {
          if (r.value.toString() === nonce) {
            pending.delete(partition);
            if (pending.size === 0) done();
            return; // later records were written after the restore began
          }
          continue;
        }
        if (r.key !== null) latest.set(r.key, r);
      }
    },
  });
  const beat = options.heartbeat ? setInterval(() => void options.heartbeat!().catch(() => undefined), 1000) : null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const markers: OutgoingRecord[] = Array.from({ length: changelogPartitions }, (_, p) => ({ key: keyForPartition(MARKER_PREFIX, p, changelogPartitions), value: nonce }));
    await bus.produce(TOPICS.featureState, markers);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`state restore from ${TOPICS.featureState} timed out after ${options.timeoutMs} ms; ${pending.size} of ${changelogPartitions} partitions unread (does the topic have ${changelogPartitions} partitions?)`)), options.timeoutMs);
    });
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    if (beat) clearInterval(beat);
    await subscription.stop();
  }
  return collect(latest, options.logger, options.onSkipped);
}

function collect(latest: Map<string, BusRecord>, logger: Logger, onSkipped?: (kind: SkipKind) => void): Restored {
  const contents = readChangelog(latest);
  const partitions = new Map<number, RestoredPartition>();
  const partition = (p: number) => {
    let r = partitions.get(p);
    if (!r) partitions.set(p, (r = { states: new Map(), nextOffset: null, stored: new Map() }));
    return r;
  };
  for (const [p, next] of contents.offsets) partition(p).nextOffset = next;
  for (const [p, states] of contents.states) {
    const r = partition(p);
    for (const [id, state] of states) {
      r.states.set(id, state);
      const stored = contents.stored.get(id);
      if (stored) r.stored.set(id, stored);
    }
  }
  for (const s of contents.skipped) {
    onSkipped?.(s.kind);
    // Where it is and why, never the key: it may be a patient id.
    logger.error({ kind: s.kind, why: s.why, changelogPartition: s.partition, changelogOffset: s.offset }, 'changelog record skipped on restore (a patient in it starts afresh; an offset is taken as unknown)');
  }
  if (contents.skipped.length > 0) logger.warn({ skipped: contents.skipped.length }, 'some changelog records could not be restored');
  return { partitions, orphanParts: contents.orphanParts };
}
