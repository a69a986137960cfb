import {
  type FieldIssue,
  InvalidJsonError,
  QueueFullError,
  UnknownTaskTypeError,
  ValidationError,
} from '../../lib/errors.ts';
import type { RateGate } from '../../lib/ops/rate-limit.ts';
import {
  type Producer,
  SendBatchError,
  type TaskInput,
} from '../../lib/producer.ts';

/** What the ingress writes to its log; Powertools' Logger fits. */
export interface IngressLogger {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

/** What `acceptTask` works with. */
export interface AcceptTaskDeps {
  /** Validates, guards the queue's capacity (R4) and sends. */
  readonly producer: Producer;
  readonly logger: IngressLogger;
  /**
   * Seconds a sender is asked to wait after a full queue (429). A full
   * queue drains at its consumers' pace, seconds to minutes.
   * @default 30
   */
  readonly retryAfterSeconds?: number;
  /**
   * The send-rate limit of `tasklane throttle`: a task over it is refused
   * with 429 and the seconds until its turn, not held.
   * @default - no limit
   */
  readonly rateGate?: RateGate;
}

/** An API Gateway proxy response. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The body of every refusal: a stable code, words, and field errors. */
export interface RefusalBody {
  readonly code: string;
  readonly message: string;
  readonly errors: readonly FieldIssue[];
}

const DEFAULT_RETRY_AFTER_SECONDS = 30;
// SQS errors are mostly throttling or a passing outage: a short wait.
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Accepts one task sent over HTTPS: parses the body, validates it as the
 * producer client does, refuses it when its queue is full, and sends it.
 *
 * Answers 202 `{ id, queueName }`; 400 `{ code, message, errors }` with one
 * `{ field, message, value }` per problem; 429 with `Retry-After` when the
 * queue holds its capacity or the send-rate limit is reached; 503 with
 * `Retry-After` when SQS fails.
 *
 * @example
 * const response = await acceptTask(event.body, { producer, logger });
 */
export async function acceptTask(
  body: string | null | undefined,
  deps: AcceptTaskDeps,
): Promise<HttpResponse> {
  let task: TaskInput;
  try {
    task = parseTask(body);
  } catch (error) {
    return refuse(error, deps);
  }
  const limited = await admit(task, deps);
  if (limited) return limited;

  try {
    const sent = await deps.producer.send(task);
    deps.logger.info('task accepted', {
      taskId: sent.id,
      taskType: task.taskType,
      businessId: task.businessId,
      queueName: sent.queueName,
    });
    return reply(202, { id: sent.id, queueName: sent.queueName });
  } catch (error) {
    return refuse(error, deps, task);
  }
}

/** The body as a task; throws InvalidJsonError or ValidationError. */
function parseTask(body: string | null | undefined): TaskInput {
  if (body === null || body === undefined || body.trim() === '') {
    throw new InvalidJsonError('the body is empty');
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new InvalidJsonError(error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const issue: FieldIssue = Array.isArray(value)
      ? { field: '', message: 'must be a JSON object, not an array' }
      : { field: '', message: 'must be a JSON object', value };
    throw new ValidationError('INVALID_TASK', [issue]);
  }
  return value as TaskInput;
}

/**
 * Refuses the task when the send-rate limit has no slot for it now; a
 * task that is then found invalid has used its slot all the same, which
 * only ever sends fewer tasks than the limit allows.
 */
async function admit(
  task: TaskInput,
  deps: AcceptTaskDeps,
): Promise<HttpResponse | undefined> {
  const waitMs = (await deps.rateGate?.admit(1)) ?? 0;
  if (waitMs <= 0) return undefined;
  const seconds = Math.ceil(waitMs / 1000);
  deps.logger.warn('task refused: send-rate limit reached', {
    taskType: task.taskType,
    businessId: task.businessId,
    retryAfterSeconds: seconds,
  });
  return refusal(
    429,
    'SEND_RATE_LIMITED',
    'the pipeline takes tasks at a lowered rate for now; send the task ' +
      'again after Retry-After seconds',
    [],
    seconds,
  );
}

/** Maps a failure to its answer; rethrows what is not the sender's or SQS's. */
function refuse(
  error: unknown,
  deps: AcceptTaskDeps,
  task?: TaskInput,
): HttpResponse {
  const fields = {
    taskType: task?.taskType,
    businessId: task?.businessId,
  };
  if (error instanceof InvalidJsonError) {
    deps.logger.warn('task refused: body is not JSON', { code: error.code });
    return refusal(400, error.code, error.message, [
      { field: '', message: error.message },
    ]);
  }
  if (error instanceof ValidationError) {
    const invalid = error.issues.map((issue) => issue.field);
    deps.logger.warn('task refused: invalid', { ...fields, invalid });
    return refusal(400, error.code, error.message, error.issues);
  }
  if (error instanceof UnknownTaskTypeError) {
    deps.logger.warn('task refused: unknown task type', fields);
    return refusal(400, error.code, error.message, [
      {
        field: 'taskType',
        message: 'is not a known task type',
        value: error.taskType,
      },
    ]);
  }
  return refuseForQueue(error, deps, fields);
}

function refuseForQueue(
  error: unknown,
  deps: AcceptTaskDeps,
  fields: Record<string, unknown>,
): HttpResponse {
  if (error instanceof QueueFullError) {
    // The producer client has logged the queue, its depth and capacity.
    const seconds = deps.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    return refusal(429, error.code, error.message, [], seconds);
  }
  if (error instanceof SendBatchError || isAwsServiceError(error)) {
    const cause = error instanceof SendBatchError ? error.failed[0] : error;
    deps.logger.warn('task not sent: SQS failed', { ...fields, cause });
    return refusal(
      503,
      'QUEUE_UNAVAILABLE',
      'the task queue did not take the task; send it again later',
      [],
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
  throw error;
}

/** Errors of the AWS SDK carry the response metadata of the request. */
function isAwsServiceError(error: unknown): error is Error {
  return error instanceof Error && '$metadata' in error;
}

function refusal(
  statusCode: number,
  code: string,
  message: string,
  errors: readonly FieldIssue[],
  retryAfterSeconds?: number,
): HttpResponse {
  const body: RefusalBody = { code, message, errors };
  const headers: Record<string, string> =
    retryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(retryAfterSeconds) };
  return reply(statusCode, body, headers);
}

function reply(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
