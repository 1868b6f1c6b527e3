// Every patient's alert state under one policy, with the unit budgets they share: the
// alerting service runs one, the replay runs one per policy. It holds state and applies
// the pure machine; the service adds the bus, the changelog and the clock.
import type { DismissReason } from '@ehr/features';
import type { OpenAlert, PatientAlertState } from './alert-state.js';
import { BudgetLedger, type BudgetUse } from './budget.js';
import { acknowledge, applyScore, dismiss, tick, type CommandOutcome, type HeldReason, type Transition } from './machine.js';
import type { AlertPolicy } from './policy.js';
import type { ScoreInput } from './score-input.js';

/** A bus position: a score at or below the patient's last applied one is a redelivery. */
export interface Position {
  partition: number;
  offset: string;
}

export interface EngineScoreResult {
  transitions: Transition[];
  held: HeldReason | null;
  /** False when the score was a redelivery and changed nothing. */
  applied: boolean;
}

export interface EngineTickResult {
  transitions: Transition[];
  /** Patients whose state changed (to write to the changelog). */
  changed: string[];
  /** Patients who left (to remove from the changelog). */
  evicted: string[];
  /** Patients whose clock threw (their state left as it was; the others went on): the errors. */
  failed?: { patientId: string; error: unknown }[];
}

/** The engine as it was for some patients: what a failed publish rolls back to. */
export interface EngineSnapshot {
  states: Map<string, PatientAlertState | undefined>;
  budget: BudgetUse[];
}

export interface OpenAlertView extends OpenAlert {
  patientId: string;
  encounterId: string | null;
}

export class AlertEngine {
  private readonly states = new Map<string, PatientAlertState>();
  /** Alert id → patient id, open and recently closed alerts. */
  private readonly index = new Map<string, string>();
  readonly budget: BudgetLedger;

  constructor(readonly policy: AlertPolicy) {
    this.budget = new BudgetLedger(policy.budget);
  }

  get patients(): number {
    return this.states.size;
  }

  state(patientId: string): PatientAlertState | undefined {
    return this.states.get(patientId);
  }

  private put(state: PatientAlertState): void {
    const previous = this.states.get(state.patientId);
    if (previous) for (const id of [...previous.alerts, ...previous.closed].map((a) => a.alertId)) this.index.delete(id);
    this.states.set(state.patientId, state);
    for (const a of state.alerts) this.index.set(a.alertId, state.patientId);
    for (const a of state.closed) this.index.set(a.alertId, state.patientId);
  }

  private drop(patientId: string): void {
    const previous = this.states.get(patientId);
    if (!previous) return;
    for (const a of [...previous.alerts, ...previous.closed]) this.index.delete(a.alertId);
    this.states.delete(patientId);
  }

  /** Restores a patient's state (from the changelog at start). */
  restore(state: PatientAlertState): void {
    this.put(state);
  }

  restoreBudget(use: BudgetUse): void {
    this.budget.restore(use);
  }

  applyScore(input: ScoreInput, position: Position | null = null): EngineScoreResult {
    const prev = this.states.get(input.patientId);
    if (position && prev?.applied && prev.applied.partition === position.partition && BigInt(position.offset) <= BigInt(prev.applied.offset)) {
      return { transitions: [], held: null, applied: false };
    }
    const outcome = applyScore(prev, input, this.policy, this.budget);
    if (outcome.spentBudget) this.budget.record(outcome.state.unit, input.at);
    this.put(position ? { ...outcome.state, applied: { ...position } } : outcome.state);
    return { transitions: outcome.transitions, held: outcome.held, applied: true };
  }

  /** The clock for one patient (the replay ticks each stay hour by hour). */
  tickPatient(patientId: string, now: number, options: { overdue?: boolean } = {}): EngineTickResult {
    const prev = this.states.get(patientId);
    if (!prev) return { transitions: [], changed: [], evicted: [] };
    const outcome = tick(prev, now, this.policy, options);
    if (outcome.evict) {
      this.drop(patientId);
      return { transitions: outcome.transitions, changed: [], evicted: [patientId] };
    }
    if (outcome.state === prev) return { transitions: [], changed: [], evicted: [] };
    this.put(outcome.state);
    return { transitions: outcome.transitions, changed: [patientId], evicted: [] };
  }

  /** The clock for every patient. */
  tick(now: number, options: { overdue?: boolean } = {}): EngineTickResult {
    const result: EngineTickResult = { transitions: [], changed: [], evicted: [], failed: [] };
    for (const patientId of [...this.states.keys()]) {
      // One patient's state the machine cannot tick (a restored state from before a fix, a
      // value no check foresaw) must not stop every other patient's escalations: the machine
      // is pure, so a throw leaves that patient as it was.
      let r: EngineTickResult;
      try {
        r = this.tickPatient(patientId, now, options);
      } catch (error) {
        result.failed!.push({ patientId, error });
        continue;
      }
      result.transitions.push(...r.transitions);
      result.changed.push(...r.changed);
      result.evicted.push(...r.evicted);
    }
    return result;
  }

  /** The states of these patients (states are immutable values: keeping them is cheap). */
  snapshot(patientIds: Iterable<string>): EngineSnapshot {
    const states = new Map<string, PatientAlertState | undefined>();
    for (const id of patientIds) if (!states.has(id)) states.set(id, this.states.get(id));
    return { states, budget: this.budget.entries() };
  }

  /** Puts those patients back as they were (their output could not be published). */
  rollback(snapshot: EngineSnapshot): void {
    for (const [id, state] of snapshot.states) {
      if (state) this.put(state);
      else this.drop(id);
    }
    this.budget.reset(snapshot.budget);
  }

  /**
   * The patients to let go while more than `max` are held: those with no open alert, least
   * recently scored first, down to 98 % of `max` (so the sweep is not repeated on every new
   * patient). A patient with an open alert is never among them, so a ward with more open
   * alerts than `max` stays above it.
   */
  overCap(max: number): string[] {
    if (this.states.size <= max) return [];
    const excess = this.states.size - Math.floor(max * 0.98);
    const quiet = [...this.states.values()].filter((s) => s.alerts.length === 0);
    quiet.sort((a, b) => (a.latest?.at ?? -Infinity) - (b.latest?.at ?? -Infinity));
    return quiet.slice(0, excess).map((s) => s.patientId);
  }

  /** Drops these patients' state (the cap's choice, after a snapshot that can put them back). */
  forget(patientIds: readonly string[]): void {
    for (const id of patientIds) this.drop(id);
  }

  /** Every patient with state (the service's restart test compares them). */
  patientIds(): string[] {
    return [...this.states.keys()];
  }

  /** The patient an alert belongs to (open or recently closed). */
  patientOf(alertId: string): string | undefined {
    return this.index.get(alertId);
  }

  acknowledge(alertId: string, at: number, actor: string | null): CommandOutcome {
    return this.command(alertId, (state) => acknowledge(state, alertId, at, actor));
  }

  dismiss(alertId: string, reason: DismissReason, at: number, actor: string | null): CommandOutcome {
    return this.command(alertId, (state) => dismiss(state, alertId, reason, at, actor));
  }

  private command(alertId: string, apply: (state: PatientAlertState) => CommandOutcome): CommandOutcome {
    const patientId = this.index.get(alertId);
    const state = patientId === undefined ? undefined : this.states.get(patientId);
    if (!state) return { kind: 'not_found' };
    const outcome = apply(state);
    if (outcome.kind === 'applied') this.put(outcome.state);
    return outcome;
  }

  /** Every open alert, newest first. */
  openAlerts(): OpenAlertView[] {
    const out: OpenAlertView[] = [];
    for (const s of this.states.values()) for (const a of s.alerts) out.push({ ...a, patientId: s.patientId, encounterId: s.encounterId });
    return out.sort((a, b) => b.raisedAt - a.raisedAt || a.alertId.localeCompare(b.alertId));
  }

  alert(alertId: string): OpenAlertView | undefined {
    const patientId = this.index.get(alertId);
    const s = patientId === undefined ? undefined : this.states.get(patientId);
    const a = s?.alerts.find((x) => x.alertId === alertId);
    return a && s ? { ...a, patientId: s.patientId, encounterId: s.encounterId } : undefined;
  }
}
