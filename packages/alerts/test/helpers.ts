import type { News2Band, SeverityBand } from '@ehr/features';
import { T0 } from '../src/testing.js';
import type { ScoreInput } from '../src/score-input.js';

export { HOUR, T0, testPolicy } from '../src/testing.js';

export const MIN = 60_000;

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
