/**
 * One dispatch of a callback target, under its lease: send the pending
 * statuses if the slot has come, then settle them by the answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type Timing } from './config.ts';
import type { DispatchReport, RunContext } from './dispatcher.ts';
import { DeliveryFailedError, TargetRefusedError } from './errors.ts';
import { type PostAnswer, postJson } from './http-post.ts';
import type { PendingBatch } from './pending.ts';
import { deadLetterAll, expire, gone, refused } from './run-dead-letter.ts';
import {
  ageOf,
  finish,
  hold,
  type Run,
  report,
  type Tally,
} from './run-settle.ts';
import { SIGNATURE_HEADER, signCallback } from './signature.ts';
import { vetTarget } from './target-guard.ts';
import { nextSlot, type TargetState } from './targets.ts';

/** Runs a dispatch for a target whose lease `owner` holds. */
export async function runLeased(
  context: RunContext,
  state: TargetState,
  owner: string,
): Promise<DispatchReport> {
  const run: Run = { context, state, owner, target: state.target };
  const now = context.clock();
  if (state.deliveryPendingSince === undefined) {
    await context.targets.release(run.target, owner, { keepPending: true });
    return report(run, 'idle', {});
  }
  const slot = nextSlot(state, now, context.timing.intervalMs);
  if (slot > now && !state.disabled) {
    return hold(run, 'not-due', slot, {});
  }

  const { batch, readAt } = await readPending(run);
  if (batch.statuses.length === 0) {
    const retryAt = Math.max(slot, readAt + lagWait(context.timing));
    return finish(run, 'empty', readAt, false, retryAt, {});
  }
  const tally = { oldestAgeMs: ageOf(batch.statuses[0], now) };
  if (state.disabled) {
    const reason = state.disabledReason ?? 'target answered 410 Gone';
    return deadLetterAll(run, batch, 'TARGET_GONE', reason, readAt, tally);
  }
  return deliver(run, batch, readAt, tally);
}

/**
 * Reads the oldest pending statuses. When none shows but a status asked
 * for this delivery within the index lag, the index may not list it yet
 * (a consumer invokes the dispatcher the moment it wrote the status):
 * read again a few times within that lag rather than wait for a slot.
 */
async function readPending(
  run: Run,
): Promise<{ batch: PendingBatch; readAt: number }> {
  const { context, target, state } = run;
  const { indexLagMs, maxBatch } = context.timing;
  const lagEnds = (state.requestedAt ?? 0) + indexLagMs;
  let rechecks = Math.ceil(indexLagMs / INDEX_RECHECK_MS);
  for (;;) {
    const readAt = context.clock();
    const batch = await context.pending.read(target, maxBatch);
    if (batch.statuses.length > 0 || readAt >= lagEnds || rechecks-- <= 0) {
      return { batch, readAt };
    }
    await sleep(Math.min(INDEX_RECHECK_MS, lagEnds - readAt));
  }
}

/** Pause between two reads of an index that may lag. */
const INDEX_RECHECK_MS = 250;

async function deliver(
  run: Run,
  batch: PendingBatch,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  let answer: PostAnswer;
  try {
    answer = await send(run, batch);
  } catch (error) {
    if (error instanceof TargetRefusedError) {
      return refused(run, batch, error, readAt, tally);
    }
    if (error instanceof DeliveryFailedError) {
      return failed(run, batch, error, readAt, tally);
    }
    throw error;
  }
  const answered = { ...tally, httpStatus: answer.status };
  if (answer.status === 410) return gone(run, batch, readAt, answered);
  if (answer.status >= 200 && answer.status < 300) {
    return delivered(run, batch, readAt, answered);
  }
  const rejection = new DeliveryFailedError(
    'DELIVERY_REJECTED',
    `callback target answered ${answer.status}: ${answer.excerpt.slice(0, 200)}`,
    { status: answer.status },
  );
  return failed(run, batch, rejection, readAt, answered);
}

/** Vets the target, signs the batch and posts it. */
async function send(run: Run, batch: PendingBatch): Promise<PostAnswer> {
  const { context, target } = run;
  const vetted = await vetTarget(target, context.options.policy);
  const body = JSON.stringify({ statuses: batch.statuses });
  const key = await context.options.secrets.current();
  const signature = signCallback(body, key.secret, key.keyId, context.clock());
  return postJson({
    target: vetted,
    body,
    headers: { [SIGNATURE_HEADER]: signature },
    timeoutMs: context.timing.requestTimeoutMs,
  });
}

async function delivered(
  run: Run,
  batch: PendingBatch,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner } = run;
  const endedAt = context.clock();
  await context.pending.settle(target, batch.statuses, {
    callbackState: 'delivered',
    at: new Date(endedAt).toISOString(),
  });
  await context.targets.recordSuccess(target, owner, endedAt);
  context.logger.info('callback delivered', {
    target,
    statuses: batch.statuses.length,
    httpStatus: tally.httpStatus,
  });
  const next = endedAt + context.timing.intervalMs;
  const counts = { ...tally, delivered: batch.statuses.length };
  return finish(run, 'delivered', readAt, batch.more, next, counts);
}

async function failed(
  run: Run,
  batch: PendingBatch,
  error: DeliveryFailedError,
  readAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner, state } = run;
  const now = context.clock();
  const failures = (state.consecutiveFailures ?? 0) + 1;
  const next = now + backoffMs(context.timing, failures);
  const maxAge = context.timing.maxAgeMs;
  const expired = batch.statuses.filter((s) => ageOf(s, now) > maxAge);

  await expire(run, expired, error.message);
  await context.targets.recordFailure(
    target,
    owner,
    failures,
    next,
    error.message,
  );
  context.logger.warn('callback delivery failed', {
    target,
    errorCode: error.code,
    error: error.message,
    consecutiveFailures: failures,
    expired: expired.length,
  });
  const more = batch.more || expired.length < batch.statuses.length;
  const counts = {
    ...tally,
    httpStatus: error.status,
    errorCode: error.code,
    deadLettered: expired.length,
  };
  return finish(run, 'failed', readAt, more, next, counts);
}

/** How long an empty run waits before looking again for late statuses. */
function lagWait(timing: Timing): number {
  return Math.min(timing.indexLagMs, timing.intervalMs);
}
