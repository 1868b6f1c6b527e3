// One retry schedule for every component that waits before trying again (bus redelivery,
// a crashed consumer, warehouse writes): exponential, capped, with jitter so that many
// partitions or replicas failing together do not all retry in the same instant.
import { randomInt } from 'node:crypto';

export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Longest delay. */
  maxMs: number;
  /** Fraction of the delay drawn at random, subtracted (0 = none; default 0.2). */
  jitter?: number;
}

/** A number in [0, 1) for the jitter: retry timing needs no seed, only no lockstep. */
const uniform = () => randomInt(0, 2 ** 32) / 2 ** 32;

/**
 * Delay before retry number `attempt` (1 = the first retry): initialMs · 2^(attempt − 1),
 * capped at maxMs, then reduced by up to `jitter` of itself.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = uniform): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const jitter = Math.min(Math.max(policy.jitter ?? 0.2, 0), 1);
  return Math.round(capped * (1 - jitter * random()));
}
