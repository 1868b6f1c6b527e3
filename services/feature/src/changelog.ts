// The feature service's state lives in a compacted topic keyed by patient id: the latest
// snapshot of each patient, an empty value once evicted, and per input partition the
// offset the snapshots reflect. Restoring reads the topic up to markers this reader
// writes itself, because the bus offers no "end offsets" call and an empty partition
// would otherwise never say that it is done.
import { randomUUID } from 'node:crypto';
import { partitionForKey, type Bus, type BusRecord, type OutgoingRecord } from '@ehr/bus';
import { decodeState, TOPICS, type PatientState } from '@ehr/features';
import type { Logger } from '@ehr/runtime';

/** Keys that are not patient ids (a patient id cannot contain "_"). */
const MARKER_PREFIX = '__restore_marker.';
const OFFSET_PREFIX = '__offset.';

/** A key that the default partitioner puts on `partition` of `partitions`. */
export function keyForPartition(prefix: string, partition: number, partitions: number): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${partition}.${i}`;
    if (partitionForKey(key, partitions) === partition) return key;
  }
}

export const offsetKey = (inputPartition: number) => `${OFFSET_PREFIX}${inputPartition}`;

/** What one input partition's state was when last checkpointed. */
export interface RestoredPartition {
  states: Map<string, PatientState>;
  /** The next input offset the states do not include (null if it was never checkpointed). */
  nextOffset: bigint | null;
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
}

/** Reads the whole changelog and returns the state of every input partition found in it. */
export async function restoreState(options: RestoreOptions): Promise<Map<number, RestoredPartition>> {
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
  return collect(latest, options.logger);
}

function collect(latest: Map<string, BusRecord>, logger: Logger): Map<number, RestoredPartition> {
  const result = new Map<number, RestoredPartition>();
  const partition = (p: number) => {
    let r = result.get(p);
    if (!r) result.set(p, (r = { states: new Map(), nextOffset: null }));
    return r;
  };
  let unreadable = 0;
  for (const [key, record] of latest) {
    if (record.value.length === 0) continue; // evicted
    if (key.startsWith(OFFSET_PREFIX)) {
      const { partition: p, nextOffset } = JSON.parse(record.value.toString()) as { partition: number; nextOffset: string };
      partition(p).nextOffset = BigInt(nextOffset);
      continue;
    }
    try {
      const { state, meta } = decodeState(record.value);
      partition(meta.partition ?? 0).states.set(key, state);
    } catch (err) {
      unreadable++;
      logger.error({ err, partition: record.partition, offset: record.offset }, 'unreadable patient state in the changelog; that patient starts afresh');
    }
  }
  if (unreadable > 0) logger.warn({ unreadable }, 'some patient states could not be restored');
  return result;
}
