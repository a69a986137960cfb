/**
 * The send-rate limit (R22, backlog runbook: lower the send rate). An
 * operator sets it with `tasklane throttle`; producer clients read it from
 * a `RateLimitSource` and pace their sends so that they send at most
 * `rate` tasks per second each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { QueueGroup } from '../producer-queues.ts';

/** Where a producer reads the current send-rate limit from. */
export interface RateLimitSource {
  /** Tasks per second a producer may send, or undefined for no limit. */
  current(): Promise<number | undefined>;
}

/** Bounds of a send-rate limit, in tasks per second. */
export const RATE_LIMIT_RANGE = { min: 0.1, max: 100_000 } as const;

/** The value stored in SSM for "no limit". */
export const RATE_LIMIT_OFF = 'off';

/** `/<prefix>/send-rate-limit`: the SSM parameter of the limit. */
export function rateLimitParameterName(prefix: string): string {
  return `/${prefix}/send-rate-limit`;
}

/**
 * Reads a stored limit: a number within RATE_LIMIT_RANGE, or undefined for
 * `off`, an empty value or anything unreadable, so a mistyped parameter
 * never stops producers.
 */
export function parseRateLimit(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === RATE_LIMIT_OFF) return undefined;
  const rate = Number(value);
  const { min, max } = RATE_LIMIT_RANGE;
  return Number.isFinite(rate) && rate >= min && rate <= max ? rate : undefined;
}

/** Options shared by the sources that read the limit over the network. */
interface CachedSourceOptions {
  /** How long a read is reused, in ms. */
  readonly cacheMs?: number;
  /**
   * Called when a read fails; the last value read stays in force until
   * the next read. @default - the error is dropped
   */
  readonly onError?: (error: unknown) => void;
}

/** Options of `ssmRateLimit`. */
export interface SsmRateLimitOptions extends CachedSourceOptions {
  readonly ssm: SSMClient;
  /** Start of every resource name. */
  readonly prefix: string;
}

/**
 * The limit in SSM Parameter Store, read at most once per `cacheMs`
 * (default 10 s, so a fleet of producers costs SSM a few reads a second).
 * A missing parameter means no limit.
 *
 * @example
 * const ssm = new SSMClient({});
 * const rateLimit = ssmRateLimit({ ssm, prefix: 'tasklane' });
 * const producer = createProducer({ sqs, registry, rateLimit });
 */
export function ssmRateLimit(options: SsmRateLimitOptions): RateLimitSource {
  const Name = rateLimitParameterName(options.prefix);
  return cachedSource(options.cacheMs ?? 10_000, options.onError, async () => {
    try {
      const out = await options.ssm.send(new GetParameterCommand({ Name }));
      return parseRateLimit(out.Parameter?.Value);
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
}

/** Options of `localRateLimit`. */
export interface LocalRateLimitOptions extends CachedSourceOptions {
  /** Base URL of the local control server, e.g. `http://127.0.0.1:4569`. */
  readonly controlUrl: string;
  /**
   * How long one read may take, in ms; a read that takes longer fails
   * (`onError`), so a server that accepts but never answers cannot hold
   * the sends up. @default 2_000
   */
  readonly timeoutMs?: number;
}

/** The limit the local control server holds (`GET /throttle`). */
export function localRateLimit(
  options: LocalRateLimitOptions,
): RateLimitSource {
  const url = new URL('/throttle', options.controlUrl);
  const timeoutMs = options.timeoutMs ?? 2_000;
  return cachedSource(options.cacheMs ?? 1_000, options.onError, async () => {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      throw new Error(`GET ${url} answered ${response.status}`);
    }
    const { rate } = (await response.json()) as { rate: number | null };
    return parseRateLimit(rate === null ? undefined : String(rate));
  });
}

/** Reuses a read for `cacheMs`; a failed read keeps the last good value. */
function cachedSource(
  cacheMs: number,
  onError: ((error: unknown) => void) | undefined,
  read: () => Promise<number | undefined>,
): RateLimitSource {
  let last: number | undefined;
  let pending: Promise<number | undefined> | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return {
    current() {
      if (pending && Date.now() - readAt < cacheMs) return pending;
      readAt = Date.now();
      pending = read().then(
        (rate) => {
          last = rate;
          return rate;
        },
        (error: unknown) => {
          onError?.(error);
          return last;
        },
      );
      return pending;
    },
  };
}

/** Time as the pacer sees it; tests pass a fake one. */
export interface PacingClock {
  /** Milliseconds, increasing. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The process's clock. */
export const systemClock: PacingClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
};

/** Holds sends back so that they keep to the current limit. */
export interface Pacer {
  /**
   * Resolves when `count` tasks may go; at once when there is no limit.
   * Resolves to the milliseconds it waited.
   */
  acquire(count: number): Promise<number>;
}

/**
 * Fixed-interval pacing: task number k of a producer is due `k / rate`
 * seconds after the first, and a batch goes when its last task is due, so
 * no window of one second holds more than `rate` tasks, batches included.
 * A producer idle longer than one interval starts afresh: idle time is not
 * saved up for a burst.
 */
export function createPacer(
  source: RateLimitSource,
  clock: PacingClock = systemClock,
): Pacer {
  // When the next task is due, by `clock`.
  let nextDue = Number.NEGATIVE_INFINITY;
  return {
    async acquire(count) {
      const rate = await source.current();
      if (rate === undefined) {
        nextDue = Number.NEGATIVE_INFINITY;
        return 0;
      }
      const slots = slotsFor(rate, count, nextDue, clock.now());
      nextDue = slots.nextDue;
      const wait = slots.lastDue - clock.now();
      if (wait <= 0) return 0;
      await clock.sleep(wait);
      return wait;
    },
  };
}

/** Admits tasks at the current limit without waiting for their turn. */
export interface RateGate {
  /**
   * Takes the slots of `count` tasks when the last of them is due now, and
   * resolves to 0; else takes none and resolves to the milliseconds until
   * it would be due. At once 0 when there is no limit.
   */
  admit(count: number): Promise<number>;
}

/**
 * The pacer's fixed-interval slots for a caller that cannot wait, such as
 * a request handler: a task that is not yet due is refused rather than
 * held, and its caller asks its own sender to come back later. Refused
 * tasks take no slot, so refusals never push the next task further out.
 */
export function createRateGate(
  source: RateLimitSource,
  clock: Pick<PacingClock, 'now'> = systemClock,
): RateGate {
  let nextDue = Number.NEGATIVE_INFINITY;
  return {
    async admit(count) {
      const rate = await source.current();
      if (rate === undefined) {
        nextDue = Number.NEGATIVE_INFINITY;
        return 0;
      }
      // Asked as if (count - 1) intervals ago, so a batch is admitted now
      // when a pacer asked then would send it now; its sends keep to the
      // pacer's bound, and a batch is not refused for ever.
      const now = clock.now();
      const askedAt = now - ((count - 1) * 1000) / rate;
      const slots = slotsFor(rate, count, nextDue, askedAt);
      if (slots.lastDue > now) return slots.lastDue - now;
      nextDue = slots.nextDue;
      return 0;
    },
  };
}

/**
 * The slots of `count` tasks at `rate` per second, the first at `now` or
 * when the previous task's slot ends: when the last one is due, and when
 * the task after them is.
 */
function slotsFor(
  rate: number,
  count: number,
  nextDue: number,
  now: number,
): { lastDue: number; nextDue: number } {
  const interval = 1000 / rate;
  const start = Math.max(now, nextDue);
  return {
    lastDue: start + (count - 1) * interval,
    nextDue: start + count * interval,
  };
}

/**
 * Starts each batch of each queue's group when the pacer lets it go, one
 * group of one batch per `send`; the sends themselves overlap, so a slow
 * request does not slow the pace. Resolves when every send has.
 */
export async function sendPaced(
  pacer: Pacer,
  groups: readonly QueueGroup[],
  send: (group: QueueGroup) => Promise<void>,
): Promise<void> {
  const sends: Promise<void>[] = [];
  for (const group of groups) {
    for (const batch of group.batches) {
      await pacer.acquire(batch.length);
      const sending = send({ ...group, messages: batch, batches: [batch] });
      // Awaited below; this only keeps an early failure from counting as
      // unhandled while later batches wait for their turn.
      sending.catch(() => {});
      sends.push(sending);
    }
  }
  await Promise.all(sends);
}
