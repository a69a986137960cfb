import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import type { Envelope } from './envelope.ts';
import { TasklaneError } from './errors.ts';
import { type ProducerLogger, splitBatches } from './producer.ts';

/** Entries EventBridge takes in one PutEvents request. */
export const MAX_EVENT_ENTRIES = 10;
/** Bytes of one entry, and of all entries of one request together. */
export const MAX_EVENT_BYTES = 262_144;

// Pauses before each retry of entries EventBridge failed: 350 ms in all.
const RETRY_DELAYS_MS = [50, 100, 200];

// Entry errors that name a fault of the request: sending again cannot help.
const SENDER_FAULTS = new Set([
  'AccessDeniedException',
  'InvalidArgument',
  'MalformedDetail',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

/** A task EventBridge accepted onto the bus. */
export interface PublishedTask {
  readonly id: string;
  readonly eventId: string;
}

/** A task EventBridge did not accept, with the reason it gave. */
export interface UnpublishedTask {
  readonly id: string;
  readonly code: string;
  readonly reason: string;
}

/** Some tasks were not published; the two lists name every task. */
export class PublishBatchError extends TasklaneError {
  readonly published: readonly PublishedTask[];
  readonly failed: readonly UnpublishedTask[];

  constructor(
    published: readonly PublishedTask[],
    failed: readonly UnpublishedTask[],
  ) {
    const shown = failed.slice(0, 3).map((t) => `${t.id} (${t.code})`);
    const more = failed.length > 3 ? ` and ${failed.length - 3} more` : '';
    super(
      'PUBLISH_FAILED',
      `${failed.length} of ${published.length + failed.length} tasks were ` +
        `not published: ${shown.join(', ')}${more}`,
    );
    this.published = published;
    this.failed = failed;
  }
}

/** A validated task as a PutEvents entry. */
export interface OutgoingEvent {
  readonly index: number;
  readonly envelope: Envelope;
  readonly entry: PutEventsRequestEntry;
  readonly bytes: number;
}

/** What putting events needs from the publisher. */
export interface PutContext {
  readonly eventBridge: EventBridgeClient;
  readonly busName: string;
  readonly logger: ProducerLogger;
}

type Outcome = PublishedTask | UnpublishedTask;

/** Puts every event; throws PublishBatchError if any was not published. */
export async function putAll(
  ctx: PutContext,
  events: readonly OutgoingEvent[],
): Promise<PublishedTask[]> {
  const chunks = splitBatches(
    events,
    (event) => event.bytes,
    MAX_EVENT_ENTRIES,
    MAX_EVENT_BYTES,
  );
  const outcomes = new Map<number, Outcome>();
  await Promise.all(
    chunks.map((chunk) => putWithRetries(ctx, chunk, outcomes)),
  );

  const all = events.map((event) => outcomes.get(event.index) as Outcome);
  const published = all.filter((o): o is PublishedTask => 'eventId' in o);
  if (published.length === all.length) return published;
  const failed = all.filter((o): o is UnpublishedTask => 'code' in o);
  throw new PublishBatchError(published, failed);
}

/** Puts one chunk; sends again what EventBridge failed on its side. */
async function putWithRetries(
  ctx: PutContext,
  chunk: readonly OutgoingEvent[],
  outcomes: Map<number, Outcome>,
): Promise<void> {
  let pending = chunk;
  for (let retry = 0; pending.length > 0; retry += 1) {
    if (retry > 0) await sleep(RETRY_DELAYS_MS[retry - 1]);
    const last = retry === RETRY_DELAYS_MS.length;
    const failures = await putOnce(ctx, pending, outcomes);
    const again: OutgoingEvent[] = [];
    for (const { event, failure, retryable } of failures) {
      if (retryable && !last) {
        again.push(event);
      } else {
        outcomes.set(event.index, failure);
        logFailure(ctx.logger, event, failure);
      }
    }
    pending = again;
    if (pending.length > 0) logRetry(ctx.logger, pending, retry);
  }
}

interface Failure {
  readonly event: OutgoingEvent;
  readonly failure: UnpublishedTask;
  readonly retryable: boolean;
}

async function putOnce(
  ctx: PutContext,
  chunk: readonly OutgoingEvent[],
  outcomes: Map<number, Outcome>,
): Promise<Failure[]> {
  let results: PutEventsResultEntry[];
  try {
    const output = await ctx.eventBridge.send(
      new PutEventsCommand({ Entries: chunk.map((event) => event.entry) }),
    );
    results = output.Entries ?? [];
  } catch (error) {
    // The SDK has already retried what a transport error allows.
    const cause = error instanceof Error ? error : new Error(String(error));
    return chunk.map((event) => ({
      event,
      failure: unpublished(event, cause.name, cause.message),
      retryable: false,
    }));
  }
  return collect(ctx, chunk, results, outcomes);
}

/** Results come in the order of the entries sent. */
function collect(
  ctx: PutContext,
  chunk: readonly OutgoingEvent[],
  results: readonly PutEventsResultEntry[],
  outcomes: Map<number, Outcome>,
): Failure[] {
  const failures: Failure[] = [];
  for (const [position, event] of chunk.entries()) {
    const result = results[position];
    if (result?.EventId) {
      const { id } = event.envelope;
      outcomes.set(event.index, { id, eventId: result.EventId });
      continue;
    }
    const code = result?.ErrorCode ?? 'NoResult';
    const reason =
      result?.ErrorMessage ?? 'EventBridge returned no result for this entry';
    const failure = unpublished(event, code, reason);
    failures.push({ event, failure, retryable: !SENDER_FAULTS.has(code) });
  }
  ctx.logger.debug('task events put', {
    busName: ctx.busName,
    accepted: chunk.length - failures.length,
    rejected: failures.length,
  });
  return failures;
}

function unpublished(
  event: OutgoingEvent,
  code: string,
  reason: string,
): UnpublishedTask {
  return { id: event.envelope.id, code, reason };
}

function logFailure(
  logger: ProducerLogger,
  event: OutgoingEvent,
  failure: UnpublishedTask,
): void {
  logger.warn('task not published', {
    taskId: failure.id,
    taskType: event.envelope.taskType,
    businessId: event.envelope.businessId,
    code: failure.code,
    reason: failure.reason,
  });
}

function logRetry(
  logger: ProducerLogger,
  pending: readonly OutgoingEvent[],
  retry: number,
): void {
  logger.warn('EventBridge failed task events, putting them again', {
    taskIds: pending.map((event) => event.envelope.id),
    retry: retry + 1,
  });
}
