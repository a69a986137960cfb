/**
 * The verdicts of a load test: R14 on the latency of first-attempt
 * successes, R15 on the busiest queue's rate, and the run's own check
 * that every task it sent reached a final status.
 */
import type { LoadtestResult } from './result.ts';

/** R14: most processing latency of core business messages, in ms. */
export const R14_LATENCY_MS = 500;
/** R15: the peak rate a single queue handles, in messages per second. */
export const R15_RATE = 10_000;

/** A checked requirement and how the run measured up. */
export interface Verdict {
  /** R14, R15, or ACCOUNTED for the run's own completeness check. */
  readonly id: string;
  readonly requirement: string;
  /** What was measured, in `unit`; null when nothing could be. */
  readonly measured: number | null;
  readonly threshold: number;
  readonly unit: string;
  readonly pass: boolean;
  /** How the figure was measured and what it leaves out. */
  readonly note: string;
}

/** A result before it is judged. */
export type Measured = Omit<LoadtestResult, 'verdicts' | 'pass'>;

/** The verdicts on R14, R15 and the run's completeness. */
export function judge(result: Measured, missingPlainTasks: number): Verdict[] {
  return [r14(result, missingPlainTasks), r15(result), accounted(result)];
}

function r14(result: Measured, missingPlainTasks: number): Verdict {
  const { p99, count } = result.latencyMs.firstAttempt;
  const unknown = missingPlainTasks > 0;
  return {
    id: 'R14',
    requirement: 'processing latency of core business messages ≤ 500 ms',
    measured: p99,
    threshold: R14_LATENCY_MS,
    unit: 'ms (p99)',
    pass: p99 !== null && p99 <= R14_LATENCY_MS && !unknown,
    note:
      `p99 of send→done over the ${count} tasks that succeeded on their ` +
      'first execution; injected failures wait for their retries by ' +
      'design and are left out' +
      (unknown ? `; ${missingPlainTasks} tasks had no final status` : ''),
  };
}

function r15(result: Measured): Verdict {
  const busiest = result.queues[0];
  return {
    id: 'R15',
    requirement: 'a single queue handles peaks of 10,000 messages per second',
    measured: busiest?.rate ?? null,
    threshold: R15_RATE,
    unit: 'msg/s',
    pass: (busiest?.rate ?? 0) >= R15_RATE,
    note:
      `messages accepted per second by the busiest queue ` +
      `(${busiest?.queueName ?? 'none'}) over the send window`,
  };
}

function accounted(result: Measured): Verdict {
  const { missing, sent } = result.counts;
  return {
    id: 'ACCOUNTED',
    requirement: 'every sent task reaches a final status',
    measured: missing,
    threshold: 0,
    unit: 'tasks missing',
    pass: missing === 0,
    note: `completed + dead-lettered = sent (${sent}) within the wait`,
  };
}
