// The alerting service's memory lives in a compacted topic keyed by patient id: each
// patient's latest alert state (an empty value once the patient has left), and each unit's
// budget use for the day. It is written after every batch, tick and command, before the
// score offsets are committed, so a restart restores what was published and skips the
// scores it already applied (each state records its last score's position). Restoring reads
// the topic up to markers this reader writes itself, because the bus offers no "end
// offsets" call and an empty partition would otherwise never say that it is done.
import { randomUUID } from 'node:crypto';
import { decodeAlertState, decodeBudgetUse, encodeAlertState, encodeBudgetUse, type BudgetUse, type PatientAlertState } from '@ehr/alerts';
import { partitionForKey, type Bus, type BusRecord, type OutgoingRecord } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import type { Logger } from '@ehr/runtime';

/** Keys that are not patient ids (a patient id cannot contain "_"). */
const MARKER_PREFIX = '__restore_marker.';
const BUDGET_PREFIX = '__budget.';

/** A key that the default partitioner puts on `partition` of `partitions`. */
export function keyForPartition(prefix: string, partition: number, partitions: number): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${partition}.${i}`;
    if (partitionForKey(key, partitions) === partition) return key;
  }
}

export const stateRecord = (state: PatientAlertState): OutgoingRecord => ({ key: state.patientId, value: encodeAlertState(state) });
/** An empty value: the patient has left, compaction forgets it. */
export const evictedRecord = (patientId: string): OutgoingRecord => ({ key: patientId, value: '' });
export const budgetRecord = (use: BudgetUse): OutgoingRecord => ({ key: `${BUDGET_PREFIX}${use.unit === null ? '' : `u:${use.unit}`}`, value: encodeBudgetUse(use) });

export interface RestoredAlertState {
  states: PatientAlertState[];
  budgets: BudgetUse[];
  unreadable: number;
}

export interface RestoreOptions {
  bus: Bus;
  logger: Logger;
  /** Partitions of the changelog topic (a marker goes to each). */
  partitions: number;
  groupPrefix: string;
  timeoutMs: number;
}

/** Reads the whole changelog: every patient's latest state and every unit's budget use. */
export async function restoreAlertState(options: RestoreOptions): Promise<RestoredAlertState> {
  const { bus, partitions } = options;
  const nonce = randomUUID();
  const latest = new Map<string, BusRecord>();
  const pending = new Set(Array.from({ length: partitions }, (_, p) => p));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  if (pending.size === 0) done();

  const subscription = await bus.subscribe({
    groupId: `${options.groupPrefix}-restore-${nonce}`,
    topics: [TOPICS.alertState],
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
  let timer: NodeJS.Timeout | undefined;
  try {
    const markers = Array.from({ length: partitions }, (_, p) => ({ key: keyForPartition(MARKER_PREFIX, p, partitions), value: nonce }));
    await bus.produce(TOPICS.alertState, markers);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`alert state restore from ${TOPICS.alertState} timed out after ${options.timeoutMs} ms; ${pending.size} of ${partitions} partitions unread (does the topic have ${partitions} partitions?)`)),
        options.timeoutMs,
      );
    });
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    await subscription.stop();
  }

  const result: RestoredAlertState = { states: [], budgets: [], unreadable: 0 };
  for (const [key, record] of latest) {
    if (record.value.length === 0) continue; // the patient left
    try {
      if (key.startsWith(BUDGET_PREFIX)) result.budgets.push(decodeBudgetUse(record.value));
      else result.states.push(decodeAlertState(record.value));
    } catch (err) {
      result.unreadable++;
      // Never the key: it is a patient id.
      options.logger.error({ err, partition: record.partition, offset: record.offset }, 'unreadable alert state in the changelog; that patient starts afresh');
    }
  }
  return result;
}
