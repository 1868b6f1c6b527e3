import type { News2Band, SeverityBand } from '@ehr/features';
import type { AlertPolicy } from '../src/policy.js';
import type { ScoreInput } from '../src/score-input.js';

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const MIN = 60_000;
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

let counter = 0;

export interface ScoreSpec {
  patient?: string;
  /** Minutes after T0. */
  minute: number;
  p?: number | null;
  news2?: number | null;
  news2Band?: News2Band | null;
  band?: SeverityBand;
  unit?: string | null;
  /** Minutes after T0 of the last complete observation set (default: the score's own time). */
  observedMinute?: number | null;
  scoreId?: string;
}

const bandOfNews2 = (n: number | null): News2Band | null => (n === null ? null : n >= 7 ? 'high' : n >= 5 ? 'medium' : 'low');

export function score(s: ScoreSpec): ScoreInput {
  const at = T0 + s.minute * MIN;
  const news2 = s.news2 === undefined ? 2 : s.news2;
  return {
    scoreId: s.scoreId ?? `score-${s.patient ?? 'p1'}-${s.minute}-${counter++}`,
    patientId: s.patient ?? 'p1',
    encounterId: `enc-${s.patient ?? 'p1'}`,
    at,
    probability: s.p === undefined ? 0.05 : s.p,
    news2,
    news2Band: s.news2Band === undefined ? bandOfNews2(news2) : s.news2Band,
    band: s.band ?? 'medium',
    unit: s.unit === undefined ? 'ward-a' : s.unit,
    observedAt: s.observedMinute === null ? null : T0 + (s.observedMinute ?? s.minute) * MIN,
  };
}

/** A budget that always allows (the machine's budget is the engine's business). */
export const NO_BUDGET = { allows: () => true };
