// The feature service's state lives in a compacted topic keyed by patient id: the latest
// snapshot of each patient, an empty value once evicted, and per input partition the
// offset the snapshots reflect (records under "#": see changelog-records.ts). Restoring
// reads the topic up to markers this reader writes itself (`restoreChangelog`, @ehr/bus).
import { restoreChangelog, type Bus, type BusRecord } from '@ehr/bus';
import { TOPICS, type PatientState } from '@ehr/features';
import type { Logger } from '@ehr/runtime';
import { MARKER_PREFIX, readChangelog, type SkipKind, type StoredParts } from './changelog-records.js';

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
  const { changelogPartitions, heartbeat, ...rest } = options;
  const latest = await restoreChangelog({
    ...rest,
    partitions: changelogPartitions,
    topic: TOPICS.featureState,
    markerPrefix: MARKER_PREFIX,
    what: 'state',
    ...(heartbeat ? { heartbeat } : {}),
  });
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
