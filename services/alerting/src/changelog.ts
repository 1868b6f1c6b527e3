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

/**
 * Keys that are not patient ids, under `#`, which a patient id cannot contain (the contract's
 * `PatientId` pattern; the feature service's changelog does the same). They were under `__`
 * before, which a patient id can hold: a patient named `__budget.u:ICU` overwrote the unit's
 * budget, and one named `__restore_marker.x` was skipped as a marker and lost its alerts on
 * a restart. Those keys are still read (`LEGACY_*`), each by what its value decodes as.
 */
const MARKER_PREFIX = '#marker/';
const BUDGET_PREFIX = '#budget/';
const LEGACY_MARKER_PREFIX = '__restore_marker.';
const LEGACY_BUDGET_PREFIX = '__budget.';

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
  // Budgets under the old key first, so that a unit's record under the new one wins.
  const legacyBudgets: BudgetUse[] = [];
  for (const [key, record] of latest) {
    if (record.value.length === 0) continue; // the patient left
    if (key.startsWith(BUDGET_PREFIX)) {
      const use = attempt(() => decodeBudgetUse(record.value));
      if (use.ok) result.budgets.push(use.value);
      else unreadable(record, use.error, 'unreadable unit budget in the changelog; that unit starts the day afresh');
      continue;
    }
    const decoded = attempt(() => decodeAlertState(record.value));
    const state = decoded.ok ? decoded.value : null;
    // A state is the patient's only under its own key (a record written under another key is not its state).
    if (state && state.patientId === key) {
      result.states.push(state);
      continue;
    }
    if (key.startsWith(LEGACY_BUDGET_PREFIX)) {
      const use = attempt(() => decodeBudgetUse(record.value));
      if (use.ok) {
        legacyBudgets.push(use.value);
        continue;
      }
    }
    if (key.startsWith(LEGACY_MARKER_PREFIX) && !state) continue; // an old reader's marker
    const error = decoded.ok ? new Error('a state under another key than its patient id') : decoded.error;
    unreadable(record, error, 'unreadable alert state in the changelog; that patient starts afresh');
  }
  result.budgets.unshift(...legacyBudgets);
  return result;

  function unreadable(record: { partition: number; offset: string }, err: unknown, message: string): void {
    result.unreadable++;
    // Never the key: it is a patient id.
    options.logger.error({ err, partition: record.partition, offset: record.offset }, message);
  }
}

function attempt<T>(decode: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: decode() };
  } catch (error) {
    return { ok: false, error };
  }
}
