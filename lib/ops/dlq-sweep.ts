import type { DeadLetterRecord } from './dead-letters.ts';
import {
  BATCH,
  type DeadLetterQueue,
  receiveDeadLetters,
  releaseDeadLetters,
  type StepResult,
  SWEEP_VISIBILITY_SECONDS,
  type SweepFailure,
} from './dlq-queue.ts';

/** How to sweep a dead-letter queue. */
export interface SweepOptions {
  /** Dead letters to hand to `step`; the rest stay. @default all */
  readonly select?: (letter: DeadLetterRecord) => boolean;
  /** Most dead letters to hand to `step`. @default no limit */
  readonly limit?: number;
  /** Dead letters per call of `step`, 1 or more. @default 10 */
  readonly chunkSize?: number;
  /** Removes the letters it is handed, as it can. */
  readonly step: (letters: readonly DeadLetterRecord[]) => Promise<StepResult>;
  /** Hears of each batch of messages looked at. */
  readonly onSeen?: (count: number) => void;
}

/** A failure as reports show it. */
export interface FailureSummary {
  readonly taskId: string;
  readonly messageId: string;
  readonly reason: string;
}

/** The failures of a sweep, without receipt handles and bodies. */
export function summarizeFailures(
  failures: readonly SweepFailure[],
): FailureSummary[] {
  return failures.map(({ letter, reason }) => ({
    taskId: letter.taskId,
    messageId: letter.messageId,
    reason,
  }));
}

/** What a sweep saw, removed and left. */
export interface SweepResult {
  /** Messages looked at: each was removed or is still in the queue. */
  readonly seen: number;
  readonly removed: number;
  readonly failures: readonly SweepFailure[];
}

interface SweepState {
  /** Received and not removed: made visible again at the end. */
  readonly held: Map<string, DeadLetterRecord>;
  pending: DeadLetterRecord[];
  removed: number;
  readonly failures: SweepFailure[];
}

/**
 * Receives every dead letter once, hands the selected ones to `step` in
 * chunks, and makes all it did not remove visible again at the end, on
 * success or error. Held letters stay hidden meanwhile, so each message is
 * looked at once per sweep.
 */
export async function sweepDeadLetters(
  queue: DeadLetterQueue,
  options: SweepOptions,
): Promise<SweepResult> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const state: SweepState = {
    held: new Map(),
    pending: [],
    removed: 0,
    failures: [],
  };
  let seen = 0;
  try {
    while (state.removed + state.pending.length < limit) {
      const batch = await receiveDeadLetters(queue, SWEEP_VISIBILITY_SECONDS);
      if (batch.length === 0) break;
      const fresh = batch.filter((letter) => !state.held.has(letter.messageId));
      refresh(state, batch);
      seen += fresh.length;
      for (const letter of fresh) hold(state, letter, options, limit);
      options.onSeen?.(fresh.length);
      if (state.pending.length >= (options.chunkSize ?? BATCH)) {
        await flush(state, options);
      }
    }
    await flush(state, options);
  } finally {
    await releaseDeadLetters(queue, [...state.held.values()]);
  }
  return { seen, removed: state.removed, failures: state.failures };
}

/**
 * Takes the receipt handles of letters received again, which happens when
 * a sweep outlasts their visibility timeout: SQS acts on the latest only.
 */
function refresh(state: SweepState, batch: readonly DeadLetterRecord[]) {
  for (const letter of batch) {
    if (!state.held.has(letter.messageId)) continue;
    state.held.set(letter.messageId, letter);
    const i = state.pending.findIndex((p) => p.messageId === letter.messageId);
    if (i >= 0) state.pending[i] = letter;
  }
}

function hold(
  state: SweepState,
  letter: DeadLetterRecord,
  options: SweepOptions,
  limit: number,
): void {
  state.held.set(letter.messageId, letter);
  const room = state.removed + state.pending.length < limit;
  if (room && (options.select?.(letter) ?? true)) state.pending.push(letter);
}

async function flush(state: SweepState, options: SweepOptions) {
  if (state.pending.length === 0) return;
  const chunk = state.pending;
  state.pending = [];
  const { removed, failures } = await options.step(chunk);
  for (const letter of removed) state.held.delete(letter.messageId);
  state.removed += removed.length;
  state.failures.push(...failures);
}
