// How often a patient's observations must be taken, from NEWS2 (RCP 2017, chart 2):
// 0 → at least every 12 h; 1–4 → every 4–6 h; a single parameter at 3 → at least hourly;
// 5–6 → at least hourly; ≥ 7 → continuous monitoring. The concrete hours are the policy's
// (overdue.intervalHours), so a ward can choose 4 h instead of 6 h for 1–4.
import type { News2Band } from '@ehr/features';
import type { AlertPolicy } from './policy.js';

export type ObservationTier = 'news2Zero' | 'news2Low' | 'singleParameterThree' | 'news2Medium' | 'news2High';

export const TIER_LABELS: Readonly<Record<ObservationTier, string>> = {
  news2Zero: 'NEWS2 0',
  news2Low: 'NEWS2 1–4',
  singleParameterThree: 'a parameter scoring 3',
  news2Medium: 'NEWS2 5–6',
  news2High: 'NEWS2 ≥ 7',
};

export function observationTier(news2: number, news2Band: News2Band | null): ObservationTier {
  if (news2 >= 7) return 'news2High';
  if (news2 >= 5) return 'news2Medium';
  if (news2Band === 'low_medium') return 'singleParameterThree';
  return news2 >= 1 ? 'news2Low' : 'news2Zero';
}

/** Hours until the next set is due, or null when NEWS2 is unknown (no frequency applies). */
export function observationIntervalHours(policy: AlertPolicy, news2: number | null, news2Band: News2Band | null): number | null {
  if (news2 === null) return null;
  return policy.overdue.intervalHours[observationTier(news2, news2Band)];
}
