import { ALERT_EVENT_TYPES, ALERT_KINDS, AlertEventTypeSchema, AlertKindSchema, decodeAlertEvent, DISMISS_REASONS, DismissReasonSchema, RESOLVE_REASONS, ResolveReasonSchema } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { alertEventId, toAlertEvent } from '../src/alert-events.js';
import { calendarDay } from '../src/budget.js';
import { AlertEngine } from '../src/engine.js';
import { decodeAlertState, decodeBudgetUse, encodeAlertState, encodeBudgetUse } from '../src/state-codec.js';
import { HOUR, MIN, score, T0, testPolicy } from './helpers.js';

describe('the daily budget per unit', () => {
  it('holds medium alerts once a unit has spent its budget for the day, lets high ones through, and starts again the next day', () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 }, budget: { perUnitPerDay: 2 } }));
    const raise = (patient: string, minute: number, band: 'medium' | 'high' = 'medium', unit = 'ward-a') => engine.applyScore(score({ patient, minute, p: 0.5, band, unit }));
    expect(raise('a', 0).transitions.map((t) => t.type)).toEqual(['raised']);
    expect(raise('b', 1).transitions.map((t) => t.type)).toEqual(['raised']);
    const third = raise('c', 2);
    expect(third.transitions).toEqual([]);
    expect(third.held).toBe('budget');
    expect(raise('d', 3, 'medium', 'ward-b').transitions.map((t) => t.type)).toEqual(['raised']);
    expect(raise('e', 4, 'high').transitions.map((t) => t.type)).toEqual(['raised']);
    expect(engine.budget.use('ward-a')).toEqual({ unit: 'ward-a', day: '2026-03-02', used: 3 });
    // Patient c is still above the threshold the next day (UTC), and now gets its alert.
    expect(raise('c', 16 * 60 + 1).transitions.map((t) => t.type)).toEqual(['raised']);
  });

  it('counts calendar days in the policy time zone', () => {
    const late = Date.parse('2026-03-02T23:30:00Z');
    expect(calendarDay(late, 'UTC')).toBe('2026-03-02');
    expect(calendarDay(late, 'Europe/London')).toBe('2026-03-02');
    expect(calendarDay(late, 'Europe/Berlin')).toBe('2026-03-03');
  });
});

describe('the engine', () => {
  it("ticks every other patient when one patient's clock throws, and leaves that one as it was", () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 } }));
    engine.applyScore(score({ patient: 'a', minute: 0, p: 0.01, news2: 6, band: 'medium' }));
    // A last observation set outside what a Date holds (a state restored from before the check
    // in observationSetAt): its overdue reason cannot be written, and the machine throws.
    engine.applyScore(score({ patient: 'b', minute: 0, p: 0.01, news2: 6, band: 'medium', observedMinute: -6e14 }));
    const stuck = engine.state('b');
    const r = engine.tick(T0 + 2 * HOUR, { overdue: true });
    expect(r.failed?.map((f) => f.patientId)).toEqual(['b']);
    expect(r.failed?.[0]?.error).toBeInstanceOf(RangeError);
    expect(r.transitions.map((t) => [t.patientId, t.type, t.kind])).toEqual([['a', 'raised', 'observations_overdue']]);
    expect(engine.state('b')).toBe(stuck);
  });

  it('applies a score at a bus position once: a redelivery changes nothing and raises nothing twice', () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 } }));
    const s = score({ minute: 0, p: 0.5 });
    const first = engine.applyScore(s, { partition: 2, offset: '41' });
    expect(first.transitions.map((t) => t.type)).toEqual(['raised']);
    expect(engine.applyScore(s, { partition: 2, offset: '41' })).toEqual({ transitions: [], held: null, applied: false });
    expect(engine.applyScore(score({ minute: 1, p: 0.01 }), { partition: 2, offset: '40' }).applied).toBe(false);
    expect(engine.state('p1')!.applied).toEqual({ partition: 2, offset: '41' });
  });

  it('finds alerts by id for commands, lists open ones newest first, and forgets evicted patients', () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 } }));
    const a = engine.applyScore(score({ patient: 'a', minute: 0, p: 0.5 })).transitions[0]!;
    const b = engine.applyScore(score({ patient: 'b', minute: 5, p: 0.5 })).transitions[0]!;
    expect(engine.openAlerts().map((x) => [x.alertId, x.patientId])).toEqual([
      [b.alertId, 'b'],
      [a.alertId, 'a'],
    ]);
    expect(engine.acknowledge(a.alertId, T0 + 10 * MIN, 'n1').kind).toBe('applied');
    expect(engine.alert(a.alertId)?.status).toBe('acknowledged');
    expect(engine.dismiss('nope', 'already_managed', T0, null)).toEqual({ kind: 'not_found' });
    const gone = engine.tick(T0 + 25 * HOUR);
    expect(gone.evicted.sort()).toEqual(['a', 'b']);
    expect(gone.transitions.map((t) => t.resolveReason)).toEqual(['stale', 'stale']);
    expect(engine.patients).toBe(0);
    expect(engine.acknowledge(a.alertId, T0, null)).toEqual({ kind: 'not_found' });
  });
});

describe('rollback', () => {
  it('puts patients and budgets back as they were when their output could not be published', () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 }, budget: { perUnitPerDay: 3 } }));
    engine.applyScore(score({ patient: 'a', minute: 0, p: 0.05 }));
    const before = engine.snapshot(['a', 'b']);
    const a = engine.applyScore(score({ patient: 'a', minute: 1, p: 0.5 })).transitions[0]!;
    engine.applyScore(score({ patient: 'b', minute: 1, p: 0.5 }));
    expect(engine.budget.use('ward-a')?.used).toBe(2);
    engine.rollback(before);
    expect(engine.patientIds()).toEqual(['a']);
    expect(engine.openAlerts()).toEqual([]);
    expect(engine.patientOf(a.alertId)).toBeUndefined();
    expect(engine.budget.use('ward-a')).toBeUndefined();
    // Redone, the same alert (same id) is raised again.
    expect(engine.applyScore(score({ patient: 'a', minute: 1, p: 0.5, scoreId: a.scoreId! })).transitions[0]!.alertId).toBe(a.alertId);
  });
});

describe('alert events', () => {
  it('are valid alert_event messages whose ids are the alert id and the type, the same on every replay', () => {
    const policy = testPolicy({ deterioration: { persistence: 1 } });
    const run = () => {
      const engine = new AlertEngine(policy);
      const raised = engine.applyScore(score({ minute: 0, p: 0.5, band: 'high', scoreId: 's-1' })).transitions;
      const escalated = engine.tick(T0 + 31 * MIN).transitions;
      const acked = engine.acknowledge(raised[0]!.alertId, T0 + 40 * MIN, 'nurse-7');
      if (acked.kind !== 'applied') throw new Error(acked.kind);
      const resolved = engine.applyScore(score({ minute: 60, p: 0.01, scoreId: 's-2' })).transitions;
      return [...raised, ...escalated, acked.transition, ...resolved].map((t) => toAlertEvent(t, policy, new Date(T0 + 2 * HOUR)));
    };
    const events = run();
    expect(events.map((e) => e.payload.type)).toEqual(['raised', 'escalated', 'acknowledged', 'resolved']);
    for (const e of events) {
      const decoded = decodeAlertEvent(JSON.stringify(e));
      expect(decoded.ok, decoded.ok ? '' : decoded.error).toBe(true);
      expect(e.eventId).toBe(alertEventId(e.payload.alertId, e.payload.type));
    }
    expect(events[0]!.payload).toMatchObject({ status: 'open', severity: 'high', escalateAt: new Date(T0 + 30 * MIN).toISOString(), policy: { name: 'test', version: '1' }, scoreId: 's-1' });
    expect(events[1]!.occurredAt).toBe(new Date(T0 + 30 * MIN).toISOString());
    expect(events[2]!.payload).toMatchObject({ status: 'acknowledged', actor: 'nurse-7', secondsToAcknowledge: 40 * 60 });
    expect(events[3]!.payload).toMatchObject({ status: 'resolved', resolveReason: 'recovered', scoreId: 's-2' });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    expect(run().map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
  });

  it('refuses an event with a dismiss reason off the list', () => {
    const bad = { ...JSON.parse(JSON.stringify(toAlertEvent(new AlertEngine(testPolicy({ deterioration: { persistence: 1 } })).applyScore(score({ minute: 0, p: 0.5 })).transitions[0]!, testPolicy(), new Date(T0)))) };
    bad.payload.dismissReason = 'bored';
    const decoded = decodeAlertEvent(JSON.stringify(bad));
    expect(decoded.ok).toBe(false);
  });

  it('has schemas that list exactly the kinds, types and reasons the code knows', () => {
    const literals = (schema: { anyOf: { const: string }[] }) => schema.anyOf.map((s) => s.const);
    expect(literals(AlertKindSchema)).toEqual([...ALERT_KINDS]);
    expect(literals(AlertEventTypeSchema)).toEqual([...ALERT_EVENT_TYPES]);
    expect(literals(DismissReasonSchema)).toEqual([...DISMISS_REASONS]);
    expect(literals(ResolveReasonSchema)).toEqual([...RESOLVE_REASONS]);
  });
});

describe('the state codec', () => {
  it('round-trips a patient state with open and closed alerts, and refuses a damaged record', () => {
    const engine = new AlertEngine(testPolicy({ deterioration: { persistence: 1 } }));
    engine.applyScore(score({ minute: 0, p: 0.5, news2: 6 }), { partition: 0, offset: '7' });
    engine.tick(T0 + 2 * HOUR);
    engine.applyScore(score({ minute: 130, p: 0.01 }), { partition: 0, offset: '8' });
    const state = engine.state('p1')!;
    expect(state.closed.length).toBeGreaterThan(0);
    expect(decodeAlertState(encodeAlertState(state))).toEqual(state);
    expect(() => decodeAlertState(encodeAlertState(state).replace('"episode":false', '"episode":"no"'))).toThrow(/episode/);
    expect(decodeBudgetUse(encodeBudgetUse({ unit: null, day: '2026-03-02', used: 4 }))).toEqual({ unit: null, day: '2026-03-02', used: 4 });
  });
});
