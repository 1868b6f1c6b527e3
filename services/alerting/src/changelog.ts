// The alerting service's memory lives in a compacted topic keyed by patient id: each
// patient's latest alert state (an empty value once the patient has left), and each unit's
// budget use for the day. It is written after every batch, tick and command, before the
// score offsets are committed, so a restart restores what was published and skips the
// scores it already applied (each state records its last score's position). Restoring reads
// the topic up to markers this reader writes itself (`restoreChangelog`, @ehr/bus).
import { decodeAlertState, decodeBudgetUse, encodeAlertState, encodeBudgetUse, type BudgetUse, type PatientAlertState } from '@ehr/alerts';
import { restoreChangelog, type Bus, type OutgoingRecord } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import type { Logger } from '@ehr/runtime';

/** Keys that are not patient ids (a patient id cannot contain "_"). */
const MARKER_PREFIX = '__restore_marker.';
const BUDGET_PREFIX = '__budget.';

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
  const latest = await restoreChangelog({ ...options, topic: TOPICS.alertState, markerPrefix: MARKER_PREFIX, what: 'alert state' });
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
