/** Timing of callback deliveries, shared by the throttle and dispatcher. */
import { CallbackError, InvalidDurationError } from './errors.ts';

/** How often and how long the dispatcher may try a callback target. */
export interface DeliveryTiming {
  /**
   * The least time between two requests to one callback target.
   * @default 60_000 (one minute, as the standard asks)
   */
  readonly intervalMs?: number;
  /** Time limit of one request, answer included. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /**
   * Longest wait between two attempts after failures; the wait doubles
   * from the interval after each failure up to this.
   * @default 3_600_000 (one hour)
   */
  readonly maxBackoffMs?: number;
  /**
   * Age (since the task finished) after which a status that could not be
   * delivered goes to the callback dead-letter queue.
   * @default 86_400_000 (24 hours)
   */
  readonly maxAgeMs?: number;
  /**
   * How long a write may take to show in the outbox's index by target.
   * A delivery that saw a status arrive this close to its reading of the
   * index keeps a follow-up delivery pending. @default 5_000
   */
  readonly indexLagMs?: number;
  /** Statuses in one request, 1-1,000; the rest go in the next slot. @default 1_000 */
  readonly maxBatch?: number;
}

/** Every timing with its default filled in. */
export type Timing = Required<DeliveryTiming> & {
  /** How long a dispatcher may work on a target before another may. */
  readonly leaseMs: number;
  /** Age after which a pending delivery nobody rescheduled is lost. */
  readonly staleAfterMs: number;
};

/** Largest number of statuses one request carries. */
export const MAX_BATCH = 1000;

/** Fills in the defaults and checks the ranges. */
export function resolveTiming(timing: DeliveryTiming = {}): Timing {
  const resolved = {
    intervalMs: timing.intervalMs ?? 60_000,
    requestTimeoutMs: timing.requestTimeoutMs ?? 10_000,
    maxBackoffMs: timing.maxBackoffMs ?? 3_600_000,
    maxAgeMs: timing.maxAgeMs ?? 86_400_000,
    indexLagMs: timing.indexLagMs ?? 5_000,
  };
  const maxBatch = timing.maxBatch ?? MAX_BATCH;
  for (const [field, value] of Object.entries(resolved)) {
    const least = field === 'indexLagMs' ? 0 : 1;
    if (!Number.isFinite(value) || value < least) {
      throw new InvalidDurationError(field, value);
    }
  }
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) {
    throw new CallbackError(
      'INVALID_BATCH_SIZE',
      `maxBatch must be an integer from 1 to ${MAX_BATCH} (got ${maxBatch})`,
    );
  }
  // Covers the request and the marking of a full batch, with room to spare.
  const leaseMs = resolved.requestTimeoutMs * 2 + 60_000;
  // A kept delivery is rescheduled at least once per back-off; EventBridge
  // Scheduler may fire a minute late and retry for an hour.
  const staleAfterMs = resolved.maxBackoffMs + leaseMs + 2 * 3_600_000;
  return { ...resolved, maxBatch, leaseMs, staleAfterMs };
}

/**
 * The wait before the next attempt after `failures` failures in a row:
 * the interval, doubling with each failure, at most `maxBackoffMs` but
 * never less than the interval.
 */
export function backoffMs(timing: Timing, failures: number): number {
  const doubled = timing.intervalMs * 2 ** Math.max(0, failures - 1);
  return Math.max(timing.intervalMs, Math.min(timing.maxBackoffMs, doubled));
}

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Reads a duration such as `500ms`, `2s`, `1.5m` or `1h` (a bare number is
 * milliseconds), for options like `--callback-interval`.
 */
export function parseDuration(text: string, field = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = UNITS[match?.[2] ?? 'ms'];
  const ms = match && unit ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new InvalidDurationError(field, text);
  }
  return Math.round(ms);
}
