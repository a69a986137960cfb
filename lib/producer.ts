import { randomUUID } from 'node:crypto';
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import {
  type Envelope,
  type EnvelopeInput,
  envelopeSchema,
} from './envelope.ts';
import { fieldIssues, ValidationError } from './errors.ts';
import {
  createPacer,
  type Pacer,
  type RateLimitSource,
  sendPaced,
} from './ops/rate-limit.ts';
import {
  createQueueBook,
  type QueueBook,
  type QueueGroup,
} from './producer-queues.ts';
import {
  type OutgoingMessage,
  type ProducerLogger,
  type Results,
  type SentTask,
  sendToQueue,
  sentInOrder,
} from './producer-send.ts';
import { assertPrefix, DEFAULT_PREFIX, taskQueueName } from './queue-names.ts';
import type { TaskRegistry } from './registry.ts';

export {
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
  splitBatches,
} from './producer-queues.ts';
export {
  type FailedTask,
  type ProducerLogger,
  SendBatchError,
  type SentTask,
} from './producer-send.ts';

/**
 * Bytes of one message, body and attributes. SQS takes up to 1 MiB, but
 * EventBridge takes 256 KiB per event: this bound lets every task travel by
 * every way into tasklane. Larger data belongs in S3, named in the payload.
 */
export const MAX_MESSAGE_BYTES = 262_144;
/** Messages one queue may hold (R4). */
export const DEFAULT_CAPACITY = 10_000;
/** How long a queue depth read is reused, in ms. */
export const DEFAULT_DEPTH_CACHE_MS = 1_000;

/** Settings of a producer; only `sqs` and `registry` are required. */
export interface ProducerOptions {
  /** The client tasks are sent with; the caller owns and destroys it. */
  readonly sqs: SQSClient;
  /** The task types that may be sent, with their schemas and defaults. */
  readonly registry: TaskRegistry;
  /** Start of every queue name. @default 'tasklane' */
  readonly prefix?: string;
  /**
   * Messages a queue may hold, 1 or more; a send that would pass it throws
   * QueueFullError. @default 10_000
   */
  readonly capacity?: number;
  /** How long a queue depth read is reused, in ms, 0 or more. @default 1_000 */
  readonly depthCacheMs?: number;
  /** Accept `http:` callback URLs; for local mode only. @default false */
  readonly allowHttpCallbacks?: boolean;
  /** @default - a logger that writes nothing */
  readonly logger?: ProducerLogger;
  /**
   * Where the send-rate limit is read before each batch, e.g.
   * `ssmRateLimit`; this producer then sends at most that many tasks per
   * second. @default - no limit
   */
  readonly rateLimit?: RateLimitSource;
}

/** A task as a producer writes it; the client fills `id` and `createdAt`. */
export type TaskInput = Omit<EnvelopeInput, 'id' | 'createdAt'> &
  Partial<Pick<EnvelopeInput, 'id' | 'createdAt'>>;

/** Sends tasks; one per process is enough, it caches queue URLs and depths. */
export interface Producer {
  /** Validates a task, then sends it to the queue of its type and priority. */
  send(task: TaskInput): Promise<SentTask>;
  /** Validates every task, then sends them all; results in input order. */
  sendBatch(tasks: readonly TaskInput[]): Promise<SentTask[]>;
}

interface Context {
  readonly sqs: SQSClient;
  readonly registry: TaskRegistry;
  readonly prefix: string;
  readonly schema: ReturnType<typeof envelopeSchema>;
  readonly logger: ProducerLogger;
  readonly queues: QueueBook;
  readonly pacer?: Pacer;
}

const silent: ProducerLogger = { debug() {}, info() {}, warn() {} };

/**
 * Creates the producer client: it validates tasks against the envelope and
 * their task type's payload schema, routes each to the queue of its type
 * and priority, batches, and refuses to fill a queue past its capacity.
 *
 * @example
 * const sqs = new SQSClient({});
 * const producer = createProducer({ sqs, registry: builtInRegistry });
 * const { id, queueName } = await producer.send({
 *   taskType: 'order.notification',
 *   businessId: 'order-1042',
 *   payload: { event: 'paid', message: 'Payment received' },
 * });
 */
export function createProducer(options: ProducerOptions): Producer {
  const ctx = context(options);
  return {
    async send(task) {
      const [sent] = await dispatch(ctx, [prepare(ctx, task, 0, '')]);
      return sent as SentTask;
    },
    async sendBatch(tasks) {
      return dispatch(ctx, prepareAll(ctx, tasks));
    },
  };
}

function context(options: ProducerOptions): Context {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  const depthCacheMs = options.depthCacheMs ?? DEFAULT_DEPTH_CACHE_MS;
  const { sqs, logger = silent } = options;
  assertPrefix(prefix);
  assertWhole('capacity', capacity, 1);
  assertWhole('depthCacheMs', depthCacheMs, 0);
  return {
    sqs,
    registry: options.registry,
    prefix,
    schema: envelopeSchema({ allowHttpCallbacks: options.allowHttpCallbacks }),
    logger,
    queues: createQueueBook({ sqs, capacity, depthCacheMs, logger }),
    pacer: options.rateLimit && createPacer(options.rateLimit),
  };
}

/**
 * Sends after every queue's capacity is checked, so a full queue stops the
 * whole call; room reserved for messages that did not go is given back.
 */
async function dispatch(
  ctx: Context,
  messages: readonly OutgoingMessage[],
): Promise<SentTask[]> {
  const groups = await ctx.queues.group(messages);
  ctx.queues.reserve(groups);

  const results: Results = { sent: new Map(), failed: new Map() };
  const send = async (group: QueueGroup) => {
    const unsent = await sendToQueue(ctx, group, results);
    ctx.queues.release(group, unsent);
  };
  if (ctx.pacer) await sendPaced(ctx.pacer, groups, send);
  else await Promise.all(groups.map(send));
  return sentInOrder(messages, results);
}

function assertWhole(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `producer ${field} must be a whole number of ${min} or more ` +
        `(got ${value})`,
    );
  }
}

function prepareAll(
  ctx: Context,
  tasks: readonly TaskInput[],
): OutgoingMessage[] {
  const issues = [];
  const prepared: OutgoingMessage[] = [];
  for (const [index, task] of tasks.entries()) {
    try {
      prepared.push(prepare(ctx, task, index, `tasks[${index}]`));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ValidationError('INVALID_TASK', issues);
  return prepared;
}

/** Fills defaults, validates, and renders one task as a message. */
function prepare(
  ctx: Context,
  task: TaskInput,
  index: number,
  field: string,
): OutgoingMessage {
  const envelope = validateTask(ctx, task, field);
  const body = JSON.stringify(envelope);
  const attributes = {
    taskType: { DataType: 'String', StringValue: envelope.taskType },
    priority: { DataType: 'String', StringValue: envelope.priority },
  };
  const bytes = messageBytes(body, attributes);
  if (bytes > MAX_MESSAGE_BYTES) {
    const message =
      `is ${bytes} bytes as a message, more than the ` +
      `${MAX_MESSAGE_BYTES} bytes (256 KiB) allowed`;
    throw new ValidationError('INVALID_TASK', [{ field, message }]);
  }
  const queueName = taskQueueName(
    ctx.prefix,
    envelope.taskType,
    envelope.priority,
  );
  return { index, envelope, queueName, body, attributes, bytes };
}

/** What validating a task needs: `createEventPublisher` shares it. */
export interface TaskValidation {
  readonly registry: TaskRegistry;
  readonly schema: ReturnType<typeof envelopeSchema>;
}

/**
 * Fills `id`, `createdAt` and the task type's default timeout, then checks
 * the envelope and, when the task type is known, the payload, so one error
 * names every problem; `field` prefixes each field path. The body keeps the
 * payload as given: the consumer parses it again, and a transformed payload
 * might not parse twice. Throws ValidationError or UnknownTaskTypeError.
 */
export function validateTask(
  ctx: TaskValidation,
  task: TaskInput,
  field: string,
): Envelope {
  const module = ctx.registry.has(task.taskType)
    ? ctx.registry.get(task.taskType)
    : undefined;
  const input = {
    ...task,
    id: task.id ?? randomUUID(),
    createdAt: task.createdAt ?? new Date().toISOString(),
    timeoutMs: task.timeoutMs ?? module?.defaults.timeoutMs,
  };
  const envelope = ctx.schema.safeParse(input);
  const payload = isRecord(input.payload)
    ? module?.payloadSchema.safeParse(input.payload)
    : undefined;
  const issues = [
    ...(envelope.error ? fieldIssues(envelope.error, input, field) : []),
    ...(payload?.error
      ? fieldIssues(payload.error, input.payload, join(field, 'payload'))
      : []),
  ];
  if (!envelope.success || issues.length > 0) {
    throw new ValidationError('INVALID_TASK', issues);
  }
  ctx.registry.get(envelope.data.taskType); // throws for an unknown type
  return envelope.data;
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(...parts: string[]): string {
  return parts.filter(Boolean).join('.');
}

/** The size SQS counts: body, then each attribute's name, type and value. */
function messageBytes(
  body: string,
  attributes: Record<string, MessageAttributeValue>,
): number {
  let bytes = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}
