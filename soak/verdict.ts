/**
 * The soak's assertions over its counts. Each check names what it holds
 * and the numbers it rests on; the soak passes when all hold.
 */
import type { SoakCounts } from './counts.ts';
import type { Kill } from './fleet.ts';

/** One assertion and its outcome. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What the checks need besides the counts. */
export interface VerdictInput {
  readonly counts: SoakCounts;
  readonly kills: readonly Kill[];
  readonly restarts: number;
  /** Consumer processes that exited without being told to. */
  readonly crashes: number;
  readonly callbackIntervalMs: number;
}

/** Every check of the soak, in the order they are printed. */
export function judge(input: VerdictInput): Check[] {
  return [
    ...accountingChecks(input.counts),
    ...effectChecks(input.counts),
    ...callbackChecks(input.counts, input.callbackIntervalMs),
    ...faultChecks(input),
  ];
}

function accountingChecks(c: SoakCounts): Check[] {
  return [
    check(
      'sent = completed + dead-lettered',
      c.sent === c.completed + c.deadLettered && c.deadLettered === c.failed,
      `${c.sent} sent, ${c.completed} completed, ${c.deadLettered} ` +
        `dead-lettered (${c.failed} failed in the outbox, ` +
        `${c.notFinal} without a final status)`,
    ),
    check(
      'every poison task dead-lettered after 6 executions',
      c.poisonExhausted === c.byKind.poison &&
        c.deadLettered === c.byKind.poison,
      `${c.poisonExhausted} of ${c.byKind.poison} poison tasks as ` +
        `RETRIES_EXHAUSTED after 6; ${c.deadLetterRepeats} repeated and ` +
        `${c.redrivenBySqs} SQS-redriven dead letters`,
    ),
    check(
      'every transient task completed on a retry',
      c.transientRetried === c.byKind.transient,
      `${c.transientRetried} of ${c.byKind.transient}`,
    ),
    check(
      'no task ran more than 6 executions',
      c.maxExecutions <= 6,
      `most executions of one task: ${c.maxExecutions}`,
    ),
    check(
      'task queues drained',
      c.leftInQueues === 0,
      `${c.leftInQueues} messages left`,
    ),
  ];
}

function effectChecks(c: SoakCounts): Check[] {
  return [
    check(
      "each completed task's effect recorded once",
      c.effectsRecorded === c.completed && c.effectsOfFailed === 0,
      `${c.effectsRecorded} effects recorded for ${c.completed} completed ` +
        `tasks; ${c.effectsOfFailed} for failed tasks`,
    ),
    check(
      'effects repeated only after an execution was cut short',
      c.unexplainedRepeats.length === 0,
      `${c.effectRepeats} repeated effect(s) on ${c.tasksWithRepeats} ` +
        `task(s): ${c.repeatsAfterKill} first performed within a function ` +
        `timeout before a SIGKILL, ${c.repeatsAfterTimeout} of tasks with ` +
        'an execution aborted at its time budget' +
        c.unexplainedRepeats.map((line) => `; unexplained: ${line}`).join(''),
    ),
  ];
}

function callbackChecks(c: SoakCounts, intervalMs: number): Check[] {
  return [
    check(
      'each task got exactly one final status callback',
      c.callbacksReceived === c.sent &&
        c.callbackDuplicates === 0 &&
        c.callbackMismatches === 0,
      `${c.callbacksReceived} of ${c.sent} tasks, ${c.callbackDuplicates} ` +
        `duplicate(s), ${c.callbackMismatches} differing from the outbox, ` +
        `in ${c.callbackRequests} requests`,
    ),
    check(
      'every callback request signed',
      c.refusedCallbacks === 0,
      `${c.refusedCallbacks} refused`,
    ),
    check(
      'no target got more than one callback per interval',
      c.minGapMs >= intervalMs,
      `shortest gap ${formatGap(c.minGapMs)} for an interval of ` +
        `${intervalMs} ms`,
    ),
  ];
}

function faultChecks(input: VerdictInput): Check[] {
  const midBatch = input.kills.filter((kill) => kill.inFlight > 0).length;
  return [
    check(
      'consumers killed mid-batch and restarted',
      input.kills.length === input.restarts && midBatch === input.restarts,
      `${input.kills.length} of ${input.restarts} kills, ${midBatch} with ` +
        `records in flight (${input.kills.map((k) => k.inFlight).join(', ')})`,
    ),
    check(
      'no consumer process died unbidden',
      input.crashes === 0,
      `${input.crashes} unexpected exits`,
    ),
  ];
}

function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

function formatGap(ms: number): string {
  return Number.isFinite(ms) ? `${ms} ms` : 'none (under 2 requests)';
}
