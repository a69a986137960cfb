/**
 * Sends the planned batches at their due times through the producer, with
 * several SendMessageBatch calls in flight, and records when each task
 * went.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SendMessageBatchRequest, SQSClient } from '@aws-sdk/client-sqs';
import { QueueFullError } from '../errors.ts';
import {
  type Producer,
  SendBatchError,
  type SentTask,
  type TaskInput,
} from '../producer.ts';
import type { PlannedBatch, PlannedTask } from './pacing.ts';
import {
  FAIL_TIMES,
  FLAKY_TYPE,
  type TaskKind,
  type TaskTemplate,
} from './plan.ts';

/** A task SQS accepted, and when it went. */
export interface SentRecord {
  readonly id: string;
  readonly kind: TaskKind;
  readonly taskType: string;
  readonly queueName: string;
  /** Epoch ms just before the SendMessageBatch call that carried it. */
  readonly sentAt: number;
}

/** What sending did. */
export interface SendOutcome {
  /** Tasks SQS accepted, by task id. */
  readonly sent: Map<string, SentRecord>;
  /** Tasks the producer held back because their queue was full (R4). */
  refused: number;
  /** Tasks SQS rejected, after the producer's own retries. */
  rejected: number;
  /** Up to five distinct reasons for refused or rejected tasks. */
  readonly problems: string[];
  /** Epoch ms of the first due time. */
  readonly startedAt: number;
  /** Epoch ms when the last SendMessageBatch call returned. */
  endedAt: number;
}

/** How to send. */
export interface SendOptions {
  readonly producer: Producer;
  /** The client the producer uses: its calls are timed. */
  readonly sqs: SQSClient;
  /** SendMessageBatch calls in flight at once. */
  readonly senders: number;
  readonly templates: Readonly<Record<string, TaskTemplate>>;
  /** Called with the number of tasks each call settled. */
  readonly onSettled?: (count: number) => void;
}

const STAMP = 'tasklaneLoadtestSendTime';

/**
 * Sends each batch at its due time, never more than `senders` at once: a
 * batch due while all senders are busy goes when one is free, so a slow
 * target lowers the achieved rate rather than piling up calls. A queue
 * full or an entry SQS rejects is counted; any other error ends the run.
 */
export async function sendPaced(
  batches: Iterable<PlannedBatch>,
  options: SendOptions,
): Promise<SendOutcome> {
  const outcome = emptyOutcome(Date.now());
  const times = new Map<string, number>();
  const unstamp = stampSendTimes(options.sqs, times);
  try {
    await dispatchAll(batches, options, (batch) =>
      sendBatch(batch, options, outcome, times),
    );
  } finally {
    unstamp();
    outcome.endedAt = Date.now();
  }
  return outcome;
}

function emptyOutcome(startedAt: number): SendOutcome {
  const problems: string[] = [];
  const sent = new Map<string, SentRecord>();
  return { sent, refused: 0, rejected: 0, problems, startedAt, endedAt: 0 };
}

/** Starts each batch at its due time with at most `senders` in flight. */
async function dispatchAll(
  batches: Iterable<PlannedBatch>,
  options: SendOptions,
  send: (batch: PlannedBatch) => Promise<void>,
): Promise<void> {
  const start = Date.now();
  const inFlight = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  for (const batch of batches) {
    await sleepUntil(start + batch.dueMs);
    while (inFlight.size >= options.senders) await Promise.race(inFlight);
    if (fatal) break;
    const call: Promise<void> = send(batch)
      .catch((error: unknown) => {
        fatal ??= { error };
      })
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
  }
  await Promise.all(inFlight);
  if (fatal) throw fatal.error;
}

async function sleepUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  // Timers fire about 1 ms late at best: shorter waits only add drift.
  if (wait > 1) await sleep(wait);
}

async function sendBatch(
  batch: PlannedBatch,
  options: SendOptions,
  outcome: SendOutcome,
  times: Map<string, number>,
): Promise<void> {
  const inputs = batch.tasks.map((task) => taskInput(task, options.templates));
  const kinds = new Map(inputs.map((input, i) => [input.id, batch.tasks[i]]));
  const record = (sent: readonly SentTask[]) => {
    for (const task of sent) {
      const planned = kinds.get(task.id) as PlannedTask;
      const sentAt = times.get(task.id) ?? Date.now();
      const { kind, taskType } = planned;
      outcome.sent.set(task.id, { ...task, kind, taskType, sentAt });
    }
  };
  try {
    record(await options.producer.sendBatch(inputs));
  } catch (error) {
    if (!countFailure(error, inputs.length, outcome, record)) throw error;
  } finally {
    options.onSettled?.(inputs.length);
  }
}

/** Counts a full queue or rejected entries; false for any other error. */
function countFailure(
  error: unknown,
  tasks: number,
  outcome: SendOutcome,
  record: (sent: readonly SentTask[]) => void,
): boolean {
  if (error instanceof SendBatchError) {
    record(error.sent);
    outcome.rejected += error.failed.length;
  } else if (error instanceof QueueFullError) {
    outcome.refused += tasks;
  } else {
    return false;
  }
  const problem = `${error.code}: ${error.message}`;
  if (outcome.problems.length < 5 && !outcome.problems.includes(problem)) {
    outcome.problems.push(problem);
  }
  return true;
}

/**
 * The task sent for a planned one: demo.flaky fails as its kind says;
 * other task types take their template.
 */
export function taskInput(
  task: PlannedTask,
  templates: Readonly<Record<string, TaskTemplate>>,
): TaskInput & { id: string } {
  const id = randomUUID();
  const businessId = `loadtest-${task.index}`;
  const { taskType, priority } = task;
  if (taskType === FLAKY_TYPE) {
    const failTimes = task.kind === 'plain' ? 0 : FAIL_TIMES[task.kind];
    const payload = { failTimes, workMs: 0 };
    return { id, taskType, priority, businessId, payload };
  }
  const template = templates[taskType];
  if (!template) throw new Error(`no template for task type ${taskType}`);
  return { id, taskType, priority, businessId, ...template };
}

/**
 * Records, per task id, the time just before the first SendMessageBatch
 * call that carries it; a retried entry keeps its first time. Returns a
 * function that removes the timing again.
 */
export function stampSendTimes(
  sqs: SQSClient,
  times: Map<string, number>,
): () => void {
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand') {
        const now = Date.now();
        const input = args.input as SendMessageBatchRequest;
        for (const entry of input.Entries ?? []) {
          const id = taskIdOf(entry.MessageBody);
          if (id && !times.has(id)) times.set(id, now);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: STAMP },
  );
  return () => {
    sqs.middlewareStack.remove(STAMP);
  };
}

function taskIdOf(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? '') as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
