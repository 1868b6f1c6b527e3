// Event time is bounded by the wall clock: an event dated further ahead than the allowed
// skew (clocks drift, a device's clock may run a little fast) is refused, because one
// event dated 9999-12-31 would otherwise move a partition's event-time watermark past
// every real patient and evict them all. The producer and the feature service both check.
import { Type, type Static } from '@sinclair/typebox';
import type { ValidationIssue } from './schemas/dead-letter.js';

/** `MAX_FUTURE_SKEW` default: how far ahead of the wall clock an event may be dated, in seconds. */
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300;

/** The variable both checking services read (one definition, one line in the config reference). */
export const FutureSkewEnv = Type.Object({
  MAX_FUTURE_SKEW: Type.Integer({
    minimum: 0,
    default: DEFAULT_MAX_FUTURE_SKEW_SECONDS,
    description: 'seconds an event may be dated ahead of the wall clock; later ones are dead-lettered (or refused at the producer) as future_event',
  }),
});
export type FutureSkewEnv = Static<typeof FutureSkewEnv>;

export interface FutureEvent {
  reason: 'future_event';
  error: string;
  issues: ValidationIssue[];
}

/** null when `occurredAt` is at most `maxSkewMs` ahead of `nowMs`, else why it is refused. */
export function futureEventProblem(occurredAt: string, nowMs: number, maxSkewMs: number): FutureEvent | null {
  const time = Date.parse(occurredAt);
  if (!(time > nowMs + maxSkewMs)) return null;
  const ahead = describeAhead(time - nowMs);
  const error = `occurredAt ${occurredAt.slice(0, 40)} is ${ahead} ahead of the wall clock (${new Date(nowMs).toISOString()}); at most ${maxSkewMs / 1000} s is allowed (MAX_FUTURE_SKEW)`;
  return { reason: 'future_event', error, issues: [{ path: 'occurredAt', message: error }] };
}

function describeAhead(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 48 * 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}
