import type {
  EventBridgeClient,
  PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { envelopeSchema } from './envelope.ts';
import { ValidationError } from './errors.ts';
import {
  type ProducerLogger,
  type TaskInput,
  type TaskValidation,
  validateTask,
} from './producer.ts';
import {
  MAX_EVENT_BYTES,
  type OutgoingEvent,
  type PublishedTask,
  type PutContext,
  putAll,
} from './producer-events-put.ts';
import { DEFAULT_PREFIX } from './queue-names.ts';
import type { TaskRegistry } from './registry.ts';
import {
  TASK_EVENT_DETAIL_TYPE,
  TASK_EVENT_SOURCE,
  taskBusName,
} from './task-events.ts';

export {
  MAX_EVENT_BYTES,
  MAX_EVENT_ENTRIES,
  PublishBatchError,
  type PublishedTask,
  type UnpublishedTask,
} from './producer-events-put.ts';

/** Settings of an event publisher; only `eventBridge` and `registry`. */
export interface EventPublisherOptions {
  /** The client events are put with; the caller owns and destroys it. */
  readonly eventBridge: EventBridgeClient;
  /** The task types that may be published, with their schemas. */
  readonly registry: TaskRegistry;
  /** The pipeline's bus, by name or ARN. @default 'tasklane-tasks' */
  readonly busName?: string;
  /** Accept `http:` callback URLs; for local mode only. @default false */
  readonly allowHttpCallbacks?: boolean;
  /** @default - a logger that writes nothing */
  readonly logger?: ProducerLogger;
}

/** Publishes tasks as events onto the pipeline's bus. */
export interface EventPublisher {
  /** Validates a task, then puts it on the bus. */
  publish(task: TaskInput): Promise<PublishedTask>;
  /** Validates every task, then puts them all; results in input order. */
  publishBatch(tasks: readonly TaskInput[]): Promise<PublishedTask[]>;
}

type Context = TaskValidation & PutContext;

const silent: ProducerLogger = { debug() {}, info() {}, warn() {} };

/**
 * Creates the event publisher: the producer client's way onto the bus
 * (R3). It validates tasks exactly as `createProducer` does, then puts
 * each envelope as the `detail` of a task event; the pipeline's rules
 * route it to the queue of its type and priority.
 *
 * The queue capacity (R4) is not checked on this path: the publisher
 * holds no SQS client to read queue depths. Producers that must be told
 * of a full queue send with `createProducer` or over HTTPS.
 *
 * @example
 * const eventBridge = new EventBridgeClient({});
 * const publisher = createEventPublisher({
 *   eventBridge,
 *   registry: builtInRegistry,
 * });
 * const { id } = await publisher.publish({
 *   taskType: 'order.notification',
 *   businessId: 'order-1042',
 *   payload: { event: 'paid', message: 'Payment received' },
 * });
 */
export function createEventPublisher(
  options: EventPublisherOptions,
): EventPublisher {
  const ctx: Context = {
    eventBridge: options.eventBridge,
    registry: options.registry,
    schema: envelopeSchema({ allowHttpCallbacks: options.allowHttpCallbacks }),
    busName: options.busName ?? taskBusName(DEFAULT_PREFIX),
    logger: options.logger ?? silent,
  };
  return {
    async publish(task) {
      const [published] = await putAll(ctx, [toEvent(ctx, task, 0, '')]);
      return published as PublishedTask;
    },
    async publishBatch(tasks) {
      return putAll(ctx, prepareAll(ctx, tasks));
    },
  };
}

function prepareAll(ctx: Context, tasks: readonly TaskInput[]) {
  const issues = [];
  const prepared: OutgoingEvent[] = [];
  for (const [index, task] of tasks.entries()) {
    try {
      prepared.push(toEvent(ctx, task, index, `tasks[${index}]`));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ValidationError('INVALID_TASK', issues);
  return prepared;
}

function toEvent(
  ctx: Context,
  task: TaskInput,
  index: number,
  field: string,
): OutgoingEvent {
  const envelope = validateTask(ctx, task, field);
  const entry = {
    Source: TASK_EVENT_SOURCE,
    DetailType: TASK_EVENT_DETAIL_TYPE,
    Detail: JSON.stringify(envelope),
    EventBusName: ctx.busName,
  };
  const bytes = entryBytes(entry);
  if (bytes > MAX_EVENT_BYTES) {
    const message =
      `is ${bytes} bytes as an event, more than the ` +
      `${MAX_EVENT_BYTES} bytes (256 KiB) allowed`;
    throw new ValidationError('INVALID_TASK', [{ field, message }]);
  }
  return { index, envelope, entry, bytes };
}

/** The size EventBridge counts: source, detail type and detail. */
function entryBytes(entry: PutEventsRequestEntry): number {
  return (
    Buffer.byteLength(entry.Source ?? '') +
    Buffer.byteLength(entry.DetailType ?? '') +
    Buffer.byteLength(entry.Detail ?? '')
  );
}
