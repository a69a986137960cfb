/**
 * How a failed attempt is retried. The standard allows at most 5 retries, so
 * a task runs at most 6 times.
 */
export interface RetryPolicy {
  /** Retries after the first attempt, 0 to 5. */
  readonly maxRetries: number;
  /** Upper end of the first retry's delay, in seconds, at least 1. */
  readonly baseDelaySeconds: number;
  /** Upper bound of any delay, in seconds, at most 43,200 (12 hours). */
  readonly maxDelaySeconds: number;
}

export const MAX_RETRIES = 5;

/** 1-2 s, 2-4 s, 4-8 s, 8-16 s, 16-32 s: under a minute in the worst case. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: MAX_RETRIES,
  baseDelaySeconds: 2,
  maxDelaySeconds: 300,
};

/** Throws with the field, the range and the value when a policy is invalid. */
export function assertRetryPolicy(policy: RetryPolicy): void {
  const checks: [keyof RetryPolicy, number, number][] = [
    ['maxRetries', 0, MAX_RETRIES],
    ['baseDelaySeconds', 1, 43_200],
    ['maxDelaySeconds', 1, 43_200],
  ];
  for (const [field, min, max] of checks) {
    const value = policy[field];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(
        `retry ${field} must be a whole number from ${min} to ${max} ` +
          `(got ${value})`,
      );
    }
  }
}

/** Executions allowed in all: the first one plus the retries. */
export function maxAttempts(policy: RetryPolicy): number {
  return policy.maxRetries + 1;
}

function nominalDelay(retry: number, policy: RetryPolicy): number {
  const doubled = policy.baseDelaySeconds * 2 ** (retry - 1);
  return Math.min(policy.maxDelaySeconds, doubled);
}

/**
 * Seconds to wait before retry number `retry` (1-based). The nominal delay
 * doubles with each retry up to the cap; the jitter picks a point between the
 * previous retry's nominal delay and this one's, so a retry never waits less
 * than the one before it while concurrent failures still spread out.
 */
export function retryDelaySeconds(
  retry: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const upper = nominalDelay(retry, policy);
  const lower = retry > 1 ? nominalDelay(retry - 1, policy) : upper / 2;
  return Math.ceil(lower + random() * (upper - lower));
}
