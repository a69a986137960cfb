/**
 * The result of a load test: counts, rates, send→done latencies and the
 * verdicts against R14 and R15, from what was sent and what the status
 * outbox recorded.
 */
import type { FinalRecord } from './collect.ts';
import type { LoadtestPlan, TaskKind } from './plan.ts';
import type { SendOutcome, SentRecord } from './sender.ts';
import {
  type Histogram,
  histogram,
  type LatencySummary,
  perSecond,
  round,
  summarize,
} from './stats.ts';
import { judge, type Measured, type Verdict } from './verdicts.ts';

export { R14_LATENCY_MS, R15_RATE, type Verdict } from './verdicts.ts';

/** Tasks a queue accepted and the rate it took them at. */
export interface QueueRate {
  readonly queueName: string;
  readonly sent: number;
  /** Messages per second over the send window. */
  readonly rate: number;
}

/** Tasks by what became of them. */
export interface LoadtestCounts {
  /** Tasks the run drew: sent, refused and rejected together. */
  readonly planned: number;
  /** Tasks SQS accepted. */
  readonly sent: number;
  /** Tasks the producer held back: their queue was full (R4). */
  readonly refused: number;
  /** Tasks SQS rejected after the producer's retries. */
  readonly rejected: number;
  readonly completed: number;
  /** Completed on their first execution: the tasks R14 judges. */
  readonly completedFirstAttempt: number;
  readonly completedAfterRetry: number;
  /** Ended with status failed: in the dead-letter queue. */
  readonly deadLettered: number;
  /** Sent, with no final status when the wait ended. */
  readonly missing: number;
}

/** Where the load went and the machine that sent it. */
export interface RunContext {
  readonly target: Readonly<Record<string, string | undefined>>;
  readonly machine: Readonly<Record<string, unknown>>;
}

/** Everything a load test found; written as JSON and drawn as HTML. */
export interface LoadtestResult {
  readonly startedAt: string;
  readonly target: RunContext['target'];
  readonly machine: RunContext['machine'];
  readonly plan: Omit<LoadtestPlan, 'templates'>;
  readonly counts: LoadtestCounts;
  /** Tasks sent of each kind: plain, transient, poison. */
  readonly sentByKind: Readonly<Record<TaskKind, number>>;
  readonly sendSeconds: number;
  readonly achievedRate: number;
  /** Completed tasks per second, from the first send to the last completion. */
  readonly throughput: number;
  /** The most tasks completed in one whole second of the run. */
  readonly peakThroughput: number;
  /**
   * Seconds from the last send until the last first-attempt success: a
   * pipeline that keeps up drains within its latency, one that falls
   * behind needs the longer the longer it runs.
   */
  readonly drainSeconds: number | null;
  readonly queues: readonly QueueRate[];
  /** Dead-lettered tasks as a share of the sent ones, 0-1. */
  readonly failureRate: number;
  readonly latencyMs: {
    /** Tasks that succeeded on their first execution: what R14 judges. */
    readonly firstAttempt: LatencySummary;
    /** Every completed task, retries included. */
    readonly completed: LatencySummary;
  };
  readonly latencyHistogram: Histogram;
  /** Tasks sent and completed per second from the start. */
  readonly perSecond: { readonly sent: number[]; readonly completed: number[] };
  readonly problems: readonly string[];
  readonly verdicts: readonly Verdict[];
  readonly pass: boolean;
}

/** Builds the result of a run from what was sent and what ended. */
export function buildResult(
  plan: LoadtestPlan,
  sent: SendOutcome,
  finals: ReadonlyMap<string, FinalRecord>,
  context: RunContext,
): LoadtestResult {
  const measured = measure(plan, sent, finals, context);
  const tasks = [...sent.sent.values()];
  const verdicts = judge(measured, missingPlain(tasks, finals));
  return { ...measured, verdicts, pass: verdicts.every((v) => v.pass) };
}

function measure(
  plan: LoadtestPlan,
  sent: SendOutcome,
  finals: ReadonlyMap<string, FinalRecord>,
  context: RunContext,
): Measured {
  const tasks = [...sent.sent.values()];
  const ended = tasks.flatMap((task) => endedTask(task, finals));
  const completed = ended.filter((t) => t.final.status === 'completed');
  const firstAttempt = completed.filter((t) => t.final.attempts <= 1);
  const sendSeconds = Math.max(0.001, (sent.endedAt - sent.startedAt) / 1000);
  const latency = (list: EndedTask[]) => list.map((t) => t.latencyMs);
  const { templates: _templates, ...planShown } = plan;
  const deadLettered = ended.length - completed.length;
  const series = seriesOf(tasks, completed, sent.startedAt);
  return {
    startedAt: new Date(sent.startedAt).toISOString(),
    ...context,
    plan: planShown,
    counts: {
      planned: tasks.length + sent.refused + sent.rejected,
      sent: tasks.length,
      refused: sent.refused,
      rejected: sent.rejected,
      completed: completed.length,
      completedFirstAttempt: firstAttempt.length,
      completedAfterRetry: completed.length - firstAttempt.length,
      deadLettered,
      missing: tasks.length - ended.length,
    },
    sentByKind: countKinds(tasks),
    sendSeconds: round(sendSeconds, 3),
    achievedRate: round(tasks.length / sendSeconds, 1),
    throughput: throughputOf(completed, sent.startedAt),
    peakThroughput: Math.max(0, ...series.completed),
    drainSeconds: drainOf(firstAttempt, sent.endedAt),
    queues: queueRates(tasks, sendSeconds),
    failureRate: round(deadLettered / Math.max(1, tasks.length), 4),
    latencyMs: {
      firstAttempt: summarize(latency(firstAttempt)),
      completed: summarize(latency(completed)),
    },
    latencyHistogram: histogram(latency(firstAttempt)),
    perSecond: series,
    problems: sent.problems,
  };
}

function seriesOf(
  tasks: readonly SentRecord[],
  completed: readonly EndedTask[],
  startedAt: number,
) {
  return {
    sent: perSecond(
      tasks.map((t) => t.sentAt),
      startedAt,
    ),
    completed: perSecond(
      completed.map((t) => t.final.finishedAt),
      startedAt,
    ),
  };
}

interface EndedTask {
  readonly task: SentRecord;
  readonly final: FinalRecord;
  /** Send→done: finishedAt minus the time just before the send call. */
  readonly latencyMs: number;
}

function endedTask(
  task: SentRecord,
  finals: ReadonlyMap<string, FinalRecord>,
): EndedTask[] {
  const final = finals.get(task.id);
  if (!final) return [];
  return [{ task, final, latencyMs: final.finishedAt - task.sentAt }];
}

function countKinds(tasks: readonly SentRecord[]): Record<TaskKind, number> {
  const counts = { plain: 0, transient: 0, poison: 0 };
  for (const task of tasks) counts[task.kind] += 1;
  return counts;
}

/** Per queue, busiest first. */
function queueRates(tasks: readonly SentRecord[], seconds: number) {
  const sent = new Map<string, number>();
  for (const t of tasks)
    sent.set(t.queueName, (sent.get(t.queueName) ?? 0) + 1);
  return [...sent]
    .map(([queueName, n]) => ({
      queueName,
      sent: n,
      rate: round(n / seconds, 1),
    }))
    .sort((a, b) => b.sent - a.sent);
}

function throughputOf(completed: readonly EndedTask[], startedAt: number) {
  const last = completed.reduce((m, t) => Math.max(m, t.final.finishedAt), 0);
  const seconds = Math.max(0.001, (last - startedAt) / 1000);
  return completed.length === 0 ? 0 : round(completed.length / seconds, 1);
}

function drainOf(firstAttempt: readonly EndedTask[], endedAt: number) {
  if (firstAttempt.length === 0) return null;
  const last = firstAttempt.reduce(
    (m, t) => Math.max(m, t.final.finishedAt),
    0,
  );
  return round(Math.max(0, last - endedAt) / 1000, 3);
}

/** Plain tasks without a final status: their latency is unknown. */
function missingPlain(
  tasks: readonly SentRecord[],
  finals: ReadonlyMap<string, FinalRecord>,
): number {
  return tasks.filter((t) => t.kind === 'plain' && !finals.has(t.id)).length;
}
