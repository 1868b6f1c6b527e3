import { deterministicId } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import type { PatientAlertState } from '../src/alert-state.js';
import { acknowledge, applyScore, dismiss, tick, type Transition } from '../src/machine.js';
import type { AlertPolicy } from '../src/policy.js';
import type { ScoreInput } from '../src/score-input.js';
import { HOUR, MIN, NO_BUDGET, score, T0, testPolicy } from './helpers.js';

/** Runs scores through the machine, collecting every transition. */
function run(policy: AlertPolicy, inputs: ScoreInput[], start?: PatientAlertState) {
  let state = start;
  const transitions: Transition[] = [];
  const held: (string | null)[] = [];
  for (const input of inputs) {
    const out = applyScore(state, input, policy, NO_BUDGET);
    state = out.state;
    transitions.push(...out.transitions);
    held.push(out.held);
  }
  return { state: state!, transitions, held };
}

const types = (ts: Transition[]) => ts.map((t) => `${t.type}${t.resolveReason ? `:${t.resolveReason}` : ''}`);

describe('persistence', () => {
  it('holds the first score above enter and raises on the second consecutive one, with an id from the patient and that score', () => {
    const policy = testPolicy();
    const first = run(policy, [score({ minute: 0, p: 0.25 })]);
    expect(first.transitions).toEqual([]);
    expect(first.held).toEqual(['persistence']);
    const trigger = score({ minute: 60, p: 0.3, scoreId: 'score-trigger' });
    const second = run(policy, [trigger], first.state);
    expect(types(second.transitions)).toEqual(['raised']);
    const raised = second.transitions[0]!;
    expect(raised.alertId).toBe(deterministicId('alert', 'p1', 'deterioration', 'score-trigger'));
    expect(raised).toMatchObject({ kind: 'deterioration', status: 'open', at: trigger.at, raisedAt: trigger.at, scoreId: 'score-trigger', probability: 0.3, severity: 'medium', unit: 'ward-a' });
    expect(raised.reason).toBe('model risk 30 % ≥ 20 % for 2 consecutive scores');
  });

  it('starts counting again after a score below enter', () => {
    const { transitions, held } = run(testPolicy(), [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.15 }), score({ minute: 120, p: 0.25 })]);
    expect(transitions).toEqual([]);
    expect(held).toEqual(['persistence', null, 'persistence']);
  });

  it('raises on the first score with persistence 1', () => {
    const { transitions } = run(testPolicy({ deterioration: { persistence: 1 } }), [score({ minute: 0, p: 0.2 })]);
    expect(types(transitions)).toEqual(['raised']);
  });
});

describe('hysteresis', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });

  it('keeps the alert open between exit and enter and resolves it as recovered below exit', () => {
    const { transitions } = run(policy, [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.15 }), score({ minute: 120, p: 0.12 }), score({ minute: 180, p: 0.09 })]);
    expect(types(transitions)).toEqual(['raised', 'resolved:recovered']);
    expect(transitions[1]).toMatchObject({ status: 'resolved', at: T0 + 180 * MIN, alertId: transitions[0]!.alertId, probability: 0.09 });
    expect(transitions[1]!.reason).toBe('model risk 9.0 % below 10 %');
  });

  it('without hysteresis (exit = enter) the same scores flicker into a second episode', () => {
    const flat = testPolicy({ deterioration: { persistence: 1, exit: 0.2, reAlert: { rise: null, withinHours: 0 } } });
    const { transitions } = run(flat, [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.15 }), score({ minute: 120, p: 0.25 })]);
    expect(types(transitions)).toEqual(['raised', 'resolved:recovered', 'raised']);
  });
});

describe('re-alert only on a further rise', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });

  it('stays quiet while the signal stays up, and replaces the alert when it rises by the policy rise', () => {
    const { transitions, state } = run(policy, [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.3 }), score({ minute: 120, p: 0.34 }), score({ minute: 180, p: 0.35, band: 'high' })]);
    expect(types(transitions)).toEqual(['raised', 'resolved:superseded', 'raised']);
    const [first, superseded, second] = transitions as [Transition, Transition, Transition];
    expect(superseded.alertId).toBe(first.alertId);
    expect(second.supersedes).toBe(first.alertId);
    expect(second).toMatchObject({ severity: 'high', escalateAt: T0 + 180 * MIN + 30 * MIN });
    expect(second.reason).toBe('model risk 35 % rose further from model risk 25 % (≥ +10 %)');
    expect(state.alerts.map((a) => a.alertId)).toEqual([second.alertId]);
  });

  it('after an episode ends, a new one within withinHours needs the further rise (refractory), and not after', () => {
    const inputs = [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.05 }), score({ minute: 120, p: 0.25 }), score({ minute: 180, p: 0.05 }), score({ minute: 13 * 60 + 1, p: 0.25 })];
    const { transitions, held } = run(policy, inputs);
    expect(types(transitions)).toEqual(['raised', 'resolved:recovered', 'raised']);
    expect(held[2]).toBe('refractory');
    expect(transitions[2]!.at).toBe(T0 + (13 * 60 + 1) * MIN);
  });

  it('never re-alerts during an episode when rise is null', () => {
    const never = testPolicy({ deterioration: { persistence: 1, reAlert: { rise: null, withinHours: 0 } } });
    const { transitions } = run(never, [score({ minute: 0, p: 0.25 }), score({ minute: 60, p: 0.9 })]);
    expect(types(transitions)).toEqual(['raised']);
  });
});

describe('signals', () => {
  it('says nothing without a probability and without a NEWS2 floor (no model)', () => {
    const { transitions, state } = run(testPolicy({ deterioration: { persistence: 1 } }), [score({ minute: 0, p: null, news2: 9, band: 'high' })]);
    expect(transitions).toEqual([]);
    expect(state.streak).toBe(0);
  });

  it('raises on the NEWS2 floor with no model, and ends the episode when NEWS2 falls below the floor exit', () => {
    const policy = testPolicy({ deterioration: { persistence: 1, news2Floor: { enter: 7, exit: 5 } } });
    const { transitions } = run(policy, [score({ minute: 0, p: null, news2: 7, band: 'high' }), score({ minute: 60, p: null, news2: 6 }), score({ minute: 120, p: null, news2: 4 })]);
    expect(types(transitions)).toEqual(['raised', 'resolved:recovered']);
    expect(transitions[0]!.reason).toBe("NEWS2 7 ≥ 7 (the policy's NEWS2 floor)");
  });

  it('reads the NEWS2 total when the policy signal is news2', () => {
    const policy = testPolicy({ deterioration: { signal: 'news2', enter: 5, exit: 5, persistence: 1, reAlert: { rise: null, withinHours: 0 } } });
    const { transitions } = run(policy, [score({ minute: 0, news2: 4 }), score({ minute: 60, news2: 5 }), score({ minute: 120, news2: 6 }), score({ minute: 180, news2: 4 })]);
    expect(types(transitions)).toEqual(['raised', 'resolved:recovered']);
    expect(transitions[0]!.reason).toBe('NEWS2 5 ≥ 5');
  });
});

describe('budget', () => {
  it('holds an alert the budget does not allow, records nothing, and tells the caller when one was spent', () => {
    const policy = testPolicy({ deterioration: { persistence: 1 } });
    const refused = applyScore(undefined, score({ minute: 0, p: 0.5 }), policy, { allows: () => false });
    expect(refused.transitions).toEqual([]);
    expect(refused.held).toBe('budget');
    expect(refused.spentBudget).toBe(false);
    expect(refused.state.episode).toBe(false);
    const allowed = applyScore(refused.state, score({ minute: 60, p: 0.5 }), policy, NO_BUDGET);
    expect(types(allowed.transitions)).toEqual(['raised']);
    expect(allowed.spentBudget).toBe(true);
  });
});

describe('escalation (fake clock)', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });
  const raisedHigh = () => run(policy, [score({ minute: 0, p: 0.5, band: 'high' })]);

  it('escalates an unacknowledged high alert exactly afterMinutes after it was raised, once', () => {
    const { state } = raisedHigh();
    expect(tick(state, T0 + 29 * MIN + 59_999, policy).transitions).toEqual([]);
    const due = tick(state, T0 + 30 * MIN, policy);
    expect(types(due.transitions)).toEqual(['escalated']);
    expect(due.transitions[0]).toMatchObject({ at: T0 + 30 * MIN, status: 'escalated' });
    // The clock running late still stamps the escalation at its due time, and only once.
    const late = tick(state, T0 + 3 * HOUR, policy);
    expect(late.transitions[0]!.at).toBe(T0 + 30 * MIN);
    expect(tick(late.state, T0 + 4 * HOUR, policy).transitions.filter((t) => t.type === 'escalated')).toEqual([]);
  });

  it('does not escalate an acknowledged alert, nor a medium one, and follows afterMinutes', () => {
    const { state, transitions } = raisedHigh();
    const acked = acknowledge(state, transitions[0]!.alertId, T0 + 10 * MIN, 'nurse-1');
    if (acked.kind !== 'applied') throw new Error(acked.kind);
    expect(tick(acked.state, T0 + 2 * HOUR, policy).transitions).toEqual([]);
    const medium = run(policy, [score({ minute: 0, p: 0.5, band: 'medium' })]);
    expect(tick(medium.state, T0 + 2 * HOUR, policy).transitions).toEqual([]);
    const slow = testPolicy({ deterioration: { persistence: 1 }, escalation: { afterMinutes: 90 } });
    const r = run(slow, [score({ minute: 0, p: 0.5, band: 'high' })]);
    expect(tick(r.state, T0 + 89 * MIN, slow).transitions).toEqual([]);
    expect(tick(r.state, T0 + 90 * MIN, slow).transitions.map((t) => t.type)).toEqual(['escalated']);
  });

  it('lets an escalated alert be acknowledged, with the time from raised', () => {
    const { state, transitions } = raisedHigh();
    const escalated = tick(state, T0 + 40 * MIN, policy).state;
    const acked = acknowledge(escalated, transitions[0]!.alertId, T0 + 45 * MIN, null);
    if (acked.kind !== 'applied') throw new Error(acked.kind);
    expect(acked.transition).toMatchObject({ type: 'acknowledged', status: 'acknowledged', secondsToAcknowledge: 45 * 60 });
  });
});

describe('acknowledge and dismiss', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });

  it('acknowledges once: a repeat returns the same transition, a resolved alert is closed, an unknown one not found', () => {
    const { state, transitions } = run(policy, [score({ minute: 0, p: 0.5 })]);
    const id = transitions[0]!.alertId;
    const acked = acknowledge(state, id, T0 + 5 * MIN, 'nurse-1');
    if (acked.kind !== 'applied') throw new Error(acked.kind);
    expect(acked.transition).toMatchObject({ type: 'acknowledged', status: 'acknowledged', actor: 'nurse-1', secondsToAcknowledge: 300, at: T0 + 5 * MIN });
    expect(acked.state.alerts[0]!.status).toBe('acknowledged');
    const again = acknowledge(acked.state, id, T0 + 9 * MIN, 'nurse-2');
    expect(again).toEqual({ kind: 'unchanged', transition: acked.transition });
    const resolved = run(policy, [score({ minute: 60, p: 0.01 })], acked.state);
    expect(types(resolved.transitions)).toEqual(['resolved:recovered']);
    expect(acknowledge(resolved.state, id, T0 + 2 * HOUR, null)).toMatchObject({ kind: 'closed', closed: { status: 'resolved', resolveReason: 'recovered' } });
    expect(acknowledge(resolved.state, 'no-such-alert', T0, null)).toEqual({ kind: 'not_found' });
  });

  it('dismisses with a reason; the episode goes on without a new alert; a repeat with the same reason is unchanged, another reason conflicts', () => {
    const { state, transitions } = run(policy, [score({ minute: 0, p: 0.5 })]);
    const id = transitions[0]!.alertId;
    const dismissed = dismiss(state, id, 'already_managed', T0 + 3 * MIN, 'dr-2');
    if (dismissed.kind !== 'applied') throw new Error(dismissed.kind);
    expect(dismissed.transition).toMatchObject({ type: 'dismissed', status: 'dismissed', dismissReason: 'already_managed', actor: 'dr-2' });
    expect(dismissed.state.alerts).toEqual([]);
    expect(run(policy, [score({ minute: 60, p: 0.55 })], dismissed.state).transitions).toEqual([]);
    expect(dismiss(dismissed.state, id, 'already_managed', T0 + 9 * MIN, 'dr-3')).toEqual({ kind: 'unchanged', transition: dismissed.transition });
    expect(dismiss(dismissed.state, id, 'measurement_error', T0 + 9 * MIN, null)).toMatchObject({ kind: 'closed' });
    expect(acknowledge(dismissed.state, id, T0 + 9 * MIN, null)).toMatchObject({ kind: 'closed', closed: { status: 'dismissed' } });
  });
});

describe('overdue observations (fake clock)', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });

  it('flags a NEWS2 5–6 patient one hour plus grace after the last set, once per set, and resolves on a new set', () => {
    const { state } = run(policy, [score({ minute: 0, p: 0.01, news2: 6, band: 'medium' })]);
    expect(tick(state, T0 + 74 * MIN, policy).transitions).toEqual([]);
    const due = tick(state, T0 + 75 * MIN, policy);
    expect(types(due.transitions)).toEqual(['raised']);
    const raised = due.transitions[0]!;
    expect(raised).toMatchObject({ kind: 'observations_overdue', at: T0 + 75 * MIN, severity: 'medium', overdue: { lastObservationAt: T0, dueAt: T0 + HOUR, intervalHours: 1 } });
    expect(raised.alertId).toBe(deterministicId('alert', 'p1', 'observations_overdue', T0));
    expect(tick(due.state, T0 + 3 * HOUR, policy).transitions).toEqual([]);
    // A lab-only score (no new vitals) does not answer it; a new set does.
    const lab = run(policy, [score({ minute: 80, p: 0.01, news2: 6, observedMinute: 0 })], due.state);
    expect(lab.transitions).toEqual([]);
    const taken = run(policy, [score({ minute: 90, p: 0.01, news2: 6 })], lab.state);
    expect(types(taken.transitions)).toEqual(['resolved:observations_taken']);
  });

  it('uses the RCP interval of the latest NEWS2, and never flags a set twice even after a dismissal', () => {
    const low = run(policy, [score({ minute: 0, p: 0.01, news2: 0, band: 'low' })]).state;
    expect(tick(low, T0 + 12 * HOUR + 14 * MIN, policy).transitions).toEqual([]);
    const raised = tick(low, T0 + 12 * HOUR + 15 * MIN, policy);
    expect(raised.transitions[0]?.overdue?.intervalHours).toBe(12);
    const dismissed = dismiss(raised.state, raised.transitions[0]!.alertId, 'expected_for_patient', T0 + 13 * HOUR, null);
    if (dismissed.kind !== 'applied') throw new Error(dismissed.kind);
    expect(tick(dismissed.state, T0 + 14 * HOUR, policy).transitions).toEqual([]);
    const three = run(policy, [score({ minute: 0, p: 0.01, news2: 3, news2Band: 'low_medium' })]).state;
    expect(tick(three, T0 + 75 * MIN, policy).transitions[0]?.overdue?.intervalHours).toBe(1);
  });

  it('flags nothing without NEWS2 or without any observation, and not when the service says it is not caught up', () => {
    expect(tick(run(policy, [score({ minute: 0, news2: null })]).state, T0 + 20 * HOUR, policy).transitions).toEqual([]);
    expect(tick(run(policy, [score({ minute: 0, observedMinute: null })]).state, T0 + 20 * HOUR, policy).transitions).toEqual([]);
    expect(tick(run(policy, [score({ minute: 0, news2: 6 })]).state, T0 + 2 * HOUR, policy, { overdue: false }).transitions).toEqual([]);
  });
});

describe('stale patients', () => {
  it('resolves every open alert as stale and evicts the patient after staleAfterHours without a score', () => {
    const policy = testPolicy({ deterioration: { persistence: 1 } });
    const { state } = run(policy, [score({ minute: 0, p: 0.5 })]);
    expect(tick(state, T0 + 23 * HOUR, policy).evict).toBe(false);
    const gone = tick(state, T0 + 24 * HOUR, policy);
    expect(gone.evict).toBe(true);
    expect(types(gone.transitions)).toEqual(['resolved:stale']);
    expect(gone.transitions[0]!.at).toBe(T0 + 24 * HOUR);
  });
});

describe('determinism', () => {
  it('gives the same transitions (ids, times, reasons) for the same inputs, and never changes the state it is given', () => {
    const policy = testPolicy();
    const inputs = [0.1, 0.25, 0.3, 0.45, 0.15, 0.05, 0.3, 0.3].map((p, i) => score({ minute: i * 60, p, scoreId: `s-${i}`, band: p > 0.4 ? 'high' : 'medium' }));
    const a = run(policy, inputs);
    const frozen = JSON.stringify(a.state);
    const b = run(policy, inputs);
    expect(b.transitions).toEqual(a.transitions);
    tick(a.state, T0 + 20 * HOUR, policy);
    applyScore(a.state, score({ minute: 600, p: 0.9 }), policy, NO_BUDGET);
    expect(JSON.stringify(a.state)).toBe(frozen);
  });
});

describe('every open status closes (escalated and acknowledged alerts too)', () => {
  const policy = testPolicy({ deterioration: { persistence: 1 } });
  /** A high alert raised at T0, escalated by the clock at T0 + 30 min. */
  function escalatedHigh() {
    const raised = run(policy, [score({ minute: 0, p: 0.5, band: 'high' })]);
    const escalated = tick(raised.state, T0 + 30 * MIN, policy);
    expect(types(escalated.transitions)).toEqual(['escalated']);
    return { state: escalated.state, id: raised.transitions[0]!.alertId };
  }
  function acknowledged() {
    const raised = run(policy, [score({ minute: 0, p: 0.25 })]);
    const id = raised.transitions[0]!.alertId;
    const acked = acknowledge(raised.state, id, T0 + 5 * MIN, 'nurse-1');
    if (acked.kind !== 'applied') throw new Error(acked.kind);
    return { state: acked.state, id };
  }

  it('escalated → dismissed, with the reason and who', () => {
    const { state, id } = escalatedHigh();
    const out = dismiss(state, id, 'measurement_error', T0 + 35 * MIN, 'dr-2');
    if (out.kind !== 'applied') throw new Error(out.kind);
    expect(out.transition).toMatchObject({ type: 'dismissed', status: 'dismissed', alertId: id, dismissReason: 'measurement_error', actor: 'dr-2', at: T0 + 35 * MIN });
    expect(out.state.alerts).toEqual([]);
    // Dismissed is final: the clock does not escalate it again.
    expect(tick(out.state, T0 + 2 * HOUR, policy).transitions.filter((t) => t.alertId === id)).toEqual([]);
  });

  it('acknowledged → dismissed', () => {
    const { state, id } = acknowledged();
    const out = dismiss(state, id, 'expected_for_patient', T0 + 20 * MIN, null);
    if (out.kind !== 'applied') throw new Error(out.kind);
    expect(out.transition).toMatchObject({ type: 'dismissed', status: 'dismissed', alertId: id, dismissReason: 'expected_for_patient' });
    expect(out.state.alerts).toEqual([]);
  });

  it('escalated → resolved: recovered, when the signal falls below exit', () => {
    const { state, id } = escalatedHigh();
    const { transitions, state: after } = run(policy, [score({ minute: 60, p: 0.05 })], state);
    expect(types(transitions)).toEqual(['resolved:recovered']);
    expect(transitions[0]).toMatchObject({ alertId: id, status: 'resolved' });
    expect(after.alerts).toEqual([]);
  });

  it('acknowledged → resolved: superseded, when the signal rises further (the new alert starts unacknowledged)', () => {
    const { state, id } = acknowledged();
    const { transitions, state: after } = run(policy, [score({ minute: 60, p: 0.4 })], state);
    expect(types(transitions)).toEqual(['resolved:superseded', 'raised']);
    expect(transitions[0]).toMatchObject({ alertId: id, status: 'resolved' });
    expect(transitions[1]).toMatchObject({ supersedes: id, status: 'open' });
    expect(after.alerts.map((a) => a.status)).toEqual(['open']);
  });
});
