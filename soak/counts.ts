/**
 * The soak's counts, from what was sent and what the outbox, the
 * dead-letter queue, the effects table and the receiver hold.
 */
import type { Collected, EffectRecord } from './collect.ts';
import type { Kill } from './fleet.ts';
import type { ConsumerStats } from './ipc.ts';
import type { SoakReceiver } from './receiver.ts';
import type { SentTasks } from './send.ts';
import type { SoakKind } from './task.ts';

/** What the soak saw, as numbers. */
export interface SoakCounts {
  readonly sent: number;
  readonly byKind: Readonly<Record<SoakKind, number>>;
  /** Sent tasks with status completed, and failed, in the outbox. */
  readonly completed: number;
  readonly failed: number;
  /** Sent tasks with no final status. */
  readonly notFinal: number;
  /** Distinct tasks in the dead-letter queue, and repeated messages. */
  readonly deadLettered: number;
  readonly deadLetterRepeats: number;
  /** Dead letters SQS's redrive policy moved, without a reason. */
  readonly redrivenBySqs: number;
  /** Transient tasks completed after at least 2 executions. */
  readonly transientRetried: number;
  /** Poison tasks dead-lettered as RETRIES_EXHAUSTED after 6 attempts. */
  readonly poisonExhausted: number;
  /** Most executions of one task that reached their end. */
  readonly maxExecutions: number;
  /** Tasks whose effect is recorded. */
  readonly effectsRecorded: number;
  /** Effects performed beyond the first, over all tasks; and those tasks. */
  readonly effectRepeats: number;
  readonly tasksWithRepeats: number;
  /** Repeated effects whose first came shortly before a SIGKILL. */
  readonly repeatsAfterKill: number;
  /** Repeated effects of tasks with an execution aborted at its budget. */
  readonly repeatsAfterTimeout: number;
  /** Up to 5 repeats neither explains, described. */
  readonly unexplainedRepeats: readonly string[];
  /** Errors other than the planned failures, by code. */
  readonly unplannedErrors: Readonly<Record<string, number>>;
  /** Executions counted by the outbox that recorded no outcome (killed). */
  readonly lostExecutions: number;
  /** Failed tasks that nevertheless have an effect. */
  readonly effectsOfFailed: number;
  /** Tasks whose status reached the receiver, and copies beyond the first. */
  readonly callbacksReceived: number;
  readonly callbackDuplicates: number;
  /** Statuses received that differ from the outbox's. */
  readonly callbackMismatches: number;
  readonly callbackRequests: number;
  /** Shortest time between two requests to one target, in ms. */
  readonly minGapMs: number;
  readonly refusedCallbacks: number;
  readonly leftInQueues: number;
  /** Longest batch of a handler, and batches past the function timeout. */
  readonly longestBatchMs: number;
  readonly overruns: number;
}

/** What the counts are made from. */
export interface CountInput {
  readonly sent: SentTasks;
  readonly collected: Collected;
  readonly receiver: SoakReceiver;
  readonly kills: readonly Kill[];
  /** How long before a kill an execution may have started, in ms. */
  readonly functionTimeoutMs: number;
  /** The consumer processes' counts, together. */
  readonly consumers: ConsumerStats;
}

/** Counts everything the checks need. */
export function countSoak(input: CountInput): SoakCounts {
  return {
    ...countOutcomes(input),
    ...countEffects(input),
    ...countCallbacks(input),
    ...countErrors(input.collected),
    leftInQueues: input.collected.leftInQueues,
    longestBatchMs: input.consumers.longestBatchMs,
    overruns: input.consumers.overruns,
  };
}

function countOutcomes({ sent, collected }: CountInput) {
  const byKind = { plain: 0, transient: 0, poison: 0 };
  const tally = { completed: 0, failed: 0, transientRetried: 0 };
  let poisonExhausted = 0;
  for (const [taskId, kind] of sent.kinds) {
    byKind[kind] += 1;
    const record = collected.outbox.get(taskId);
    if (record?.status === 'completed') tally.completed += 1;
    if (record?.status === 'failed') tally.failed += 1;
    const attempts = record?.attempts ?? 0;
    if (kind === 'transient' && record?.status === 'completed') {
      tally.transientRetried += attempts >= 2 ? 1 : 0;
    }
    const letter = collected.deadLetters.get(taskId);
    const exhausted = letter?.reason === 'RETRIES_EXHAUSTED';
    if (kind === 'poison' && exhausted && letter?.attempts === 6) {
      poisonExhausted += 1;
    }
  }
  const letters = [...collected.deadLetters.values()];
  return {
    sent: sent.kinds.size,
    byKind,
    ...tally,
    notFinal: sent.kinds.size - tally.completed - tally.failed,
    deadLettered: letters.length,
    deadLetterRepeats: sum(letters.map((letter) => letter.copies - 1)),
    redrivenBySqs: letters.filter((letter) => !letter.reason).length,
    poisonExhausted,
  };
}

function countEffects(input: CountInput) {
  const { collected } = input;
  const records = [...collected.effects.values()];
  const repeated = records.filter((record) => (record.effects ?? 0) > 1);
  const byKill = repeated.filter((record) => afterKill(record, input));
  const byTimeout = repeated.filter(
    (record) => !byKill.includes(record) && timedOut(record, collected),
  );
  const unexplained = repeated.filter(
    (record) => !byKill.includes(record) && !byTimeout.includes(record),
  );
  const failedIds = [...collected.outbox.values()]
    .filter((record) => record.status === 'failed')
    .map((record) => record.taskId);
  return {
    maxExecutions: records.reduce(
      (most, record) => Math.max(most, record.executions ?? 0),
      0,
    ),
    effectsRecorded: records.filter((r) => r.firstEffectAt !== undefined)
      .length,
    effectRepeats: sum(repeated.map((record) => (record.effects ?? 0) - 1)),
    tasksWithRepeats: repeated.length,
    repeatsAfterKill: byKill.length,
    repeatsAfterTimeout: byTimeout.length,
    unexplainedRepeats: unexplained
      .slice(0, 5)
      .map((record) => describeRepeat(record, input)),
    effectsOfFailed: failedIds.filter(
      (id) => collected.effects.get(id)?.firstEffectAt !== undefined,
    ).length,
  };
}

/**
 * True when the task's first effect came from a consumer process that was
 * killed, within a function timeout before the kill: an execution cut
 * between its effect and the completion of its idempotency record, which
 * the idempotency layer cannot tell from one that never ran.
 */
function afterKill(record: EffectRecord, input: CountInput): boolean {
  const kill = input.kills.find(
    (k) => k.generation === record.firstEffectGeneration,
  );
  const at = record.firstEffectAt ?? 0;
  return !!kill && at <= kill.at && at >= kill.at - input.functionTimeoutMs;
}

/**
 * True when an execution of the task was aborted at its time budget: its
 * effect's write may have landed after all, and the attempt, counted as
 * failed (R10), was retried.
 */
function timedOut(record: EffectRecord, collected: Collected): boolean {
  const errors = collected.outbox.get(record.taskId)?.errors ?? [];
  return errors.some((error) => error.code === 'TASK_TIMEOUT');
}

function describeRepeat(record: EffectRecord, input: CountInput): string {
  const outbox = input.collected.outbox.get(record.taskId);
  const codes = (outbox?.errors ?? []).map((error) => error.code);
  return (
    `${record.taskId}: ${record.effects} effects, first in process ` +
    `${record.firstEffectGeneration} at ${record.firstEffectAt}, last in ` +
    `${record.lastEffectGeneration} at ${record.lastEffectAt}; ` +
    `${outbox?.attempts} attempts, errors [${codes.join(', ')}]`
  );
}

/**
 * Errors beyond the planned failures (TASK_FAILED), by code, and the
 * executions the outbox counted that recorded neither an error nor the
 * completion: those a kill cut short.
 */
function countErrors(collected: Collected) {
  const unplannedErrors: Record<string, number> = {};
  let lostExecutions = 0;
  for (const record of collected.outbox.values()) {
    const errors = record.errors ?? [];
    for (const { code } of errors) {
      if (code !== 'TASK_FAILED') {
        unplannedErrors[code] = (unplannedErrors[code] ?? 0) + 1;
      }
    }
    const ended = errors.length + (record.status === 'completed' ? 1 : 0);
    lostExecutions += Math.max(0, (record.attempts ?? 0) - ended);
  }
  return { unplannedErrors, lostExecutions };
}

function countCallbacks({ sent, collected, receiver }: CountInput) {
  let received = 0;
  let mismatches = 0;
  for (const taskId of sent.kinds.keys()) {
    const status = receiver.statuses.get(taskId);
    if (!status) continue;
    received += 1;
    if (status.status !== collected.outbox.get(taskId)?.status) {
      mismatches += 1;
    }
  }
  const perTarget = [...receiver.arrivals.values()];
  return {
    callbacksReceived: received,
    callbackDuplicates: receiver.duplicates,
    callbackMismatches: mismatches,
    callbackRequests: sum(perTarget.map((times) => times.length)),
    minGapMs: Math.min(...perTarget.map(minGap)),
    refusedCallbacks: receiver.refused,
  };
}

/** Shortest time between two consecutive requests; Infinity if under 2. */
export function minGap(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let least = Number.POSITIVE_INFINITY;
  for (let i = 1; i < sorted.length; i += 1) {
    least = Math.min(least, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  }
  return least;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
