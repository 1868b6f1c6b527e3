// Restoring a service's state from its compacted changelog topic. The bus offers no "end
// offsets" call and an empty partition would otherwise never say that it is done, so the
// reader writes a marker with its own nonce to each partition and reads until each comes back.
import { randomUUID } from 'node:crypto';
import { partitionForKey } from './partitioner.js';
import type { Bus, BusRecord, OutgoingRecord } from './types.js';

/** A key that the default partitioner puts on `partition` of `partitions`. */
export function keyForPartition(prefix: string, partition: number, partitions: number): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${partition}.${i}`;
    if (partitionForKey(key, partitions) === partition) return key;
  }
}

export interface ChangelogRestoreOptions {
  bus: Bus;
  topic: string;
  /** Partitions of the changelog topic (a marker goes to each). */
  partitions: number;
  /** Starts every marker key; the caller's own keys never do. */
  markerPrefix: string;
  /** The throwaway consumer group is `<groupPrefix>-restore-<nonce>`. */
  groupPrefix: string;
  timeoutMs: number;
  /** What is restored, for the timeout error ("alert state"). */
  what: string;
  /** Keeps the caller's own consumer alive during a long restore. */
  heartbeat?: () => Promise<void>;
}

/**
 * Reads `topic` from the beginning up to this reader's markers and returns the latest record
 * of every key (markers left out; an empty value is kept: the caller decides what it means).
 */
export async function restoreChangelog(options: ChangelogRestoreOptions): Promise<Map<string, BusRecord>> {
  const { bus, topic, partitions, markerPrefix } = options;
  const nonce = randomUUID();
  const latest = new Map<string, BusRecord>();
  const pending = new Set(Array.from({ length: partitions }, (_, p) => p));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  if (pending.size === 0) done();

  const subscription = await bus.subscribe({
    groupId: `${options.groupPrefix}-restore-${nonce}`,
    topics: [topic],
    fromBeginning: true,
    autoCommit: false,
    maxBatchRecords: 5000,
    handler: async ({ partition, records }) => {
      if (!pending.has(partition)) return;
      for (const r of records) {
        if (r.key?.startsWith(markerPrefix)) {
          if (r.value.toString() === nonce) {
            pending.delete(partition);
            if (pending.size === 0) done();
            return; // later records were written after the restore began
          }
          continue; // an earlier reader's marker
        }
        if (r.key !== null) latest.set(r.key, r);
      }
    },
  });
  const { heartbeat } = options;
  const beat = heartbeat ? setInterval(() => void heartbeat().catch(() => undefined), 1000) : null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const markers: OutgoingRecord[] = Array.from({ length: partitions }, (_, p) => ({ key: keyForPartition(markerPrefix, p, partitions), value: nonce }));
    await bus.produce(topic, markers);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${options.what} restore from ${topic} timed out after ${options.timeoutMs} ms; ${pending.size} of ${partitions} partitions unread (does the topic have ${partitions} partitions?)`)),
        options.timeoutMs,
      );
    });
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    if (beat) clearInterval(beat);
    await subscription.stop();
  }
  return latest;
}
