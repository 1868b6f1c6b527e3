// A policy with round numbers, and the clock it is read against, for the tests of this
// package and of the code built on it (the replay): one fixture, so their expectations
// are about the same policy. Not for the services: they run policies from files.
import type { AlertPolicy } from './policy.js';

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const HOUR = 3_600_000;

/** A probability policy with round numbers, for tests: enter 0.2, exit 0.1, two scores, re-alert on +0.1 within 12 h. */
export function testPolicy(overrides: { deterioration?: Partial<AlertPolicy['deterioration']>; budget?: Partial<AlertPolicy['budget']>; escalation?: Partial<AlertPolicy['escalation']>; overdue?: Partial<AlertPolicy['overdue']>; staleAfterHours?: number } = {}): AlertPolicy {
  return {
    name: 'test',
    version: '1',
    description: 'test policy',
    deterioration: { signal: 'probability', enter: 0.2, exit: 0.1, persistence: 2, reAlert: { rise: 0.1, withinHours: 12 }, news2Floor: null, ...overrides.deterioration },
    budget: { perUnitPerDay: null, timeZone: 'UTC', highBypasses: true, ...overrides.budget },
    escalation: { afterMinutes: 30, severities: ['high'], ...overrides.escalation },
    overdue: { enabled: true, graceMinutes: 15, intervalHours: { news2Zero: 12, news2Low: 6, singleParameterThree: 1, news2Medium: 1, news2High: 1 }, ...overrides.overdue },
    staleAfterHours: overrides.staleAfterHours ?? 24,
  };
}
