import { describe, expect, it } from 'vitest';
import {
  assertRetryPolicy,
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  retryDelaySeconds,
} from '../../lib/retry.ts';

const schedule = (random: () => number, policy = DEFAULT_RETRY_POLICY) =>
  [1, 2, 3, 4, 5].map((retry) => retryDelaySeconds(retry, policy, random));

describe('retry schedule', () => {
  it('allows 6 executions: the first and 5 retries', () => {
    expect(maxAttempts(DEFAULT_RETRY_POLICY)).toBe(6);
  });

  it('doubles the range of each delay: 1-2, 2-4, 4-8, 8-16, 16-32 s', () => {
    // Act
    const shortest = schedule(() => 0);
    const longest = schedule(() => 0.999_999);

    // Assess
    expect(shortest).toEqual([1, 2, 4, 8, 16]);
    expect(longest).toEqual([2, 4, 8, 16, 32]);
  });

  it('never waits less before a retry than before the one preceding it', () => {
    // Prepare: jitter drawn high, then low, then high, ...
    let flip = false;
    const alternating = () => {
      flip = !flip;
      return flip ? 0.99 : 0;
    };

    // Act
    const delays = schedule(alternating, {
      maxRetries: 5,
      baseDelaySeconds: 10,
      maxDelaySeconds: 40,
    });

    // Assess
    for (let i = 1; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(40);
  });

  it('rejects more than 5 retries, naming the field, range and value', () => {
    // Act
    const check = () =>
      assertRetryPolicy({ ...DEFAULT_RETRY_POLICY, maxRetries: 6 });

    // Assess
    expect(check).toThrow(
      'retry maxRetries must be a whole number from 0 to 5 (got 6)',
    );
  });
});
