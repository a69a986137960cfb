/** Dead-lettering of statuses that will not be delivered. */
import {
  type CallbackDeadLetterReason,
  sendCallbackDeadLetters,
} from './dead-letter.ts';
import type { DispatchReport } from './dispatcher.ts';
import type { TargetRefusedError } from './errors.ts';
import type { PendingBatch, StatusEntry } from './pending.ts';
import { finish, type Run, type Tally } from './run-settle.ts';
import { nextSlot } from './targets.ts';

/** Dead-letters statuses too old to wait for another attempt. */
export async function expire(
  run: Run,
  statuses: StatusEntry[],
  lastError: string,
) {
  if (statuses.length === 0) return;
  await deadLetter(run, statuses, 'DELIVERY_EXPIRED', lastError);
}

/** 410 Gone: disables the target and dead-letters what waits for it. */
export async function gone(
  run: Run,
  batch: PendingBatch,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner } = run;
  const reason = 'target answered 410 Gone';
  await context.targets.disable(target, owner, reason, context.clock());
  context.logger.warn('callback target disabled', { target, reason });
  return deadLetterAll(run, batch, 'TARGET_GONE', reason, readAt, tally);
}

/**
 * The target failed the safety checks: its statuses are dead-lettered,
 * not retried; the next look comes an interval later at the earliest.
 */
export async function refused(
  run: Run,
  batch: PendingBatch,
  error: TargetRefusedError,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner, state } = run;
  const now = context.clock();
  const failures = (state.consecutiveFailures ?? 0) + 1;
  const next = now + context.timing.intervalMs;
  await context.targets.recordFailure(
    target,
    owner,
    failures,
    next,
    error.message,
  );
  context.logger.warn('callback target refused', {
    target,
    refusal: error.reason,
    error: error.message,
  });
  const counts = { ...tally, errorCode: error.code };
  return deadLetterAll(
    run,
    batch,
    'TARGET_REFUSED',
    error.message,
    readAt,
    counts,
  );
}

/** Dead-letters this batch and every status still waiting behind it. */
export async function deadLetterAll(
  run: Run,
  first: PendingBatch,
  reason: CallbackDeadLetterReason,
  lastError: string,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target } = run;
  let batch = first;
  let count = 0;
  for (;;) {
    await deadLetter(run, batch.statuses, reason, lastError);
    count += batch.statuses.length;
    if (!batch.more) break;
    batch = await context.pending.read(target, context.timing.maxBatch);
  }
  const outcome = reason === 'TARGET_GONE' ? 'gone' : 'refused';
  const next = nextSlot(run.state, context.clock(), context.timing.intervalMs);
  const later = Math.max(next, context.clock() + context.timing.intervalMs);
  return finish(run, outcome, readAt, false, later, {
    ...tally,
    deadLettered: count,
  });
}

async function deadLetter(
  run: Run,
  statuses: readonly StatusEntry[],
  reason: CallbackDeadLetterReason,
  lastError: string,
) {
  const { context, target } = run;
  const at = new Date(context.clock()).toISOString();
  await sendCallbackDeadLetters(
    context.options.sqs,
    context.options.deadLetterQueueUrl,
    statuses,
    { target, reason, lastError, at },
  );
  await context.pending.settle(target, statuses, { callbackState: reason, at });
}
