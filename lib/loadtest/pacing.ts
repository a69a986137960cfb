/**
 * Pacing of a load test: how many tasks it sends, when each is due, how
 * they fill batches of 10 per queue, and how many senders reach the rate.
 */
import type { Priority } from '../envelope.ts';
import {
  FLAKY_TYPE,
  type LoadtestPlan,
  type MixEntry,
  type TaskKind,
} from './plan.ts';

/** Entries of one SendMessageBatch call, the most SQS takes. */
export const BATCH_SIZE = 10;

/**
 * Time one SendMessageBatch call is assumed to take when choosing the
 * number of senders: round trips measured 5-30 ms to a local emulator and
 * to a regional SQS endpoint.
 */
export const ASSUMED_BATCH_MS = 25;

/** Most senders chosen by default; `--senders` may set more. */
export const MAX_DEFAULT_SENDERS = 64;

/** A value and its relative weight. */
export interface Weighted<T> {
  readonly value: T;
  readonly weight: number;
}

/** One task as planned, before it becomes an envelope. */
export interface PlannedTask {
  /** Position in the run, from 0. */
  readonly index: number;
  readonly kind: TaskKind;
  readonly taskType: string;
  readonly priority: Priority;
}

/** Up to 10 tasks for one queue, and when they are due. */
export interface PlannedBatch {
  /** Milliseconds after the start when the batch is sent. */
  readonly dueMs: number;
  readonly taskType: string;
  readonly priority: Priority;
  readonly tasks: readonly PlannedTask[];
}

/** Tasks a run sends: the rate times the duration, rounded, at least 1. */
export function totalTasks(rate: number, durationSeconds: number): number {
  return Math.max(1, Math.round(rate * durationSeconds));
}

/** When task `index` is due, in ms after the start: evenly spaced. */
export function dueMs(index: number, rate: number): number {
  return (index * 1000) / rate;
}

/**
 * Senders that reach a rate: twice what batches of 10 taking 25 ms each
 * need, so a slower round trip still keeps up; 2 to 64.
 *
 * @example defaultSenders(800) // 4: one sender does 400 tasks/s
 */
export function defaultSenders(rate: number): number {
  const perSender = (BATCH_SIZE * 1000) / ASSUMED_BATCH_MS;
  const wanted = Math.ceil((2 * rate) / perSender);
  return Math.min(MAX_DEFAULT_SENDERS, Math.max(2, wanted));
}

/**
 * The value a uniform draw in [0, 1) falls on, each value taking a span
 * as wide as its share of the weights; values of weight 0 never come.
 */
export function pick<T>(choices: readonly Weighted<T>[], draw: number): T {
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  let edge = 0;
  for (const choice of choices) {
    edge += choice.weight / total;
    if (choice.weight > 0 && draw < edge) return choice.value;
  }
  const last = choices.findLast((c) => c.weight > 0) ?? choices.at(-1);
  if (!last) throw new Error('pick needs at least one choice');
  return last.value;
}

/**
 * Draws the tasks of a run: each is an injected failure by its share, else
 * of a task type of the mix by weight, and high priority by its share.
 */
export function planTask(
  plan: LoadtestPlan,
  index: number,
  random: () => number,
): PlannedTask {
  const kind = pick(kindChoices(plan), random());
  const taskType =
    kind === 'plain' ? pick(mixChoices(plan.mix), random()) : FLAKY_TYPE;
  const priority: Priority = random() < plan.highShare ? 'high' : 'normal';
  return { index, kind, taskType, priority };
}

function kindChoices(plan: LoadtestPlan): Weighted<TaskKind>[] {
  const plain = Math.max(0, 1 - plan.failShare - plan.poisonShare);
  return [
    { value: 'plain', weight: plain },
    { value: 'transient', weight: plan.failShare },
    { value: 'poison', weight: plan.poisonShare },
  ];
}

function mixChoices(mix: readonly MixEntry[]): Weighted<string>[] {
  return mix.map((entry) => ({ value: entry.taskType, weight: entry.weight }));
}

/**
 * The batches of a run in the order they are due. Tasks fill a batch per
 * queue, so each SendMessageBatch call is full; a batch is due when its
 * last task is, and the batches left part-full go at the end.
 */
export function* planBatches(
  plan: LoadtestPlan,
  random: () => number = Math.random,
): Generator<PlannedBatch> {
  const total = totalTasks(plan.rate, plan.durationSeconds);
  const open = new Map<string, PlannedTask[]>();
  for (let index = 0; index < total; index += 1) {
    const task = planTask(plan, index, random);
    const key = `${task.taskType} ${task.priority}`;
    const tasks = open.get(key) ?? [];
    tasks.push(task);
    open.set(key, tasks);
    if (tasks.length === BATCH_SIZE) {
      open.delete(key);
      yield batchOf(tasks, dueMs(index, plan.rate));
    }
  }
  const last = dueMs(total - 1, plan.rate);
  for (const tasks of open.values()) yield batchOf(tasks, last);
}

function batchOf(tasks: readonly PlannedTask[], due: number): PlannedBatch {
  const [first] = tasks as [PlannedTask];
  const { taskType, priority } = first;
  return { dueMs: due, taskType, priority, tasks };
}
