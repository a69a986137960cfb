/**
 * Sends the soak's tasks through the producer client, as a business
 * system would: batches of 100, a few at once, waiting while a queue is
 * full (R4 refuses to fill one past 10,000 messages).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueFullError } from '../lib/errors.ts';
import type { Producer, TaskInput } from '../lib/producer.ts';
import type { SoakOptions } from './options.ts';
import { SOAK_TASK_TYPE, type SoakKind } from './task.ts';

/** Tasks per sendBatch call. */
const CHUNK = 100;
/** sendBatch calls in flight at once. */
const SENDERS = 4;
/** Wait before trying a batch again that met a full queue. */
const FULL_QUEUE_PAUSE_MS = 200;

/** What was sent. */
export interface SentTasks {
  /** The kind of each task, by task id. */
  readonly kinds: ReadonlyMap<string, SoakKind>;
  /** Times a batch met a full queue and waited. */
  readonly queueFullWaits: number;
  /** When the first and the last batch were accepted, ms since the epoch. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * The kind of task number `index`: poison and transient tasks are spread
 * evenly over the run, in the shares the options give.
 */
export function kindOf(index: number, options: SoakOptions): SoakKind {
  if (crosses(index, options.poison)) return 'poison';
  // Transient tasks are spread over the others, so both shares hold.
  const others = options.poison < 1 ? 1 - options.poison : 1;
  return crosses(index, options.transient / others) ? 'transient' : 'plain';
}

/** True when `index` is where the running total of `share` steps up. */
function crosses(index: number, share: number): boolean {
  return Math.floor((index + 1) * share) > Math.floor(index * share);
}

/** Task number `index`, naming callback target `index mod targets`. */
export function soakTaskInput(
  index: number,
  options: SoakOptions,
  urlOf: (target: number) => string,
): TaskInput & { id: string } {
  return {
    id: randomUUID(),
    taskType: SOAK_TASK_TYPE,
    businessId: `soak-${index}`,
    priority: index % 5 === 0 ? 'high' : 'normal',
    callbackUrl: urlOf(index % options.targets),
    payload: { kind: kindOf(index, options), workMs: options.workMs },
  };
}

/** Sends every task; resolves once all are accepted. */
export async function sendTasks(
  producer: Producer,
  options: SoakOptions,
  urlOf: (target: number) => string,
): Promise<SentTasks> {
  const kinds = new Map<string, SoakKind>();
  const state = { next: 0, queueFullWaits: 0 };
  const startedAt = Date.now();

  const sender = async () => {
    while (state.next < options.tasks) {
      const first = state.next;
      state.next = Math.min(options.tasks, first + CHUNK);
      const tasks = range(first, state.next).map((index) =>
        soakTaskInput(index, options, urlOf),
      );
      state.queueFullWaits += await sendChunk(producer, tasks);
      for (const task of tasks) {
        kinds.set(task.id, (task.payload as { kind: SoakKind }).kind);
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const { queueFullWaits } = state;
  return { kinds, queueFullWaits, startedAt, endedAt: Date.now() };
}

/** Sends one batch, waiting while a queue is full; resolves to the waits. */
async function sendChunk(
  producer: Producer,
  tasks: readonly TaskInput[],
): Promise<number> {
  for (let waits = 0; ; waits += 1) {
    try {
      await producer.sendBatch(tasks);
      return waits;
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      await sleep(FULL_QUEUE_PAUSE_MS);
    }
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
