import type { SQSRecord } from 'aws-lambda';
import type { Envelope, envelopeSchema } from '../../lib/envelope.ts';
import {
  fieldIssues,
  InvalidJsonError,
  TasklaneError,
  ValidationError,
} from '../../lib/errors.ts';
import type { TaskIdentity } from '../../lib/outbox.ts';
import type { TaskRegistry } from '../../lib/registry.ts';
import type { TaskModule } from '../../lib/task-module.ts';

/** A task whose envelope and payload passed validation. */
export interface ValidTask {
  readonly envelope: Envelope;
  readonly payload: unknown;
  readonly module: TaskModule;
  readonly identity: TaskIdentity;
}

/** A message that is not a valid task; `identity` is what could be read. */
export class InvalidTaskError extends TasklaneError {
  readonly identity: TaskIdentity;

  constructor(identity: TaskIdentity, cause: TasklaneError) {
    super(cause.code, cause.message, { cause });
    this.identity = identity;
  }
}

export interface ReadTaskOptions {
  readonly registry: TaskRegistry;
  /** The task type the queue carries; another type in it is invalid. */
  readonly taskType: string;
  readonly schema: ReturnType<typeof envelopeSchema>;
}

/**
 * Parses and validates a message: JSON, envelope, task type, payload.
 * Throws InvalidTaskError naming the field and value at fault.
 */
export function readTask(
  record: SQSRecord,
  options: ReadTaskOptions,
): ValidTask {
  const raw = parseJson(record);
  const identity = identityOf(raw, record, options.schema);
  const fail = (cause: TasklaneError) => new InvalidTaskError(identity, cause);

  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) {
    throw fail(
      new ValidationError('INVALID_ENVELOPE', fieldIssues(parsed.error, raw)),
    );
  }
  const envelope = parsed.data;
  if (envelope.taskType !== options.taskType) {
    throw fail(wrongQueue(envelope.taskType, options.taskType));
  }
  const module = options.registry.get(envelope.taskType);
  const payload = module.payloadSchema.safeParse(envelope.payload);
  if (!payload.success) {
    const issues = fieldIssues(payload.error, envelope.payload, 'payload');
    throw fail(new ValidationError('INVALID_PAYLOAD', issues));
  }
  return { envelope, payload: payload.data, module, identity };
}

function parseJson(record: SQSRecord): unknown {
  try {
    return JSON.parse(record.body);
  } catch (error) {
    const identity = { taskId: messageTaskId(record) };
    throw new InvalidTaskError(identity, new InvalidJsonError(error));
  }
}

function wrongQueue(found: string, expected: string): ValidationError {
  return new ValidationError('WRONG_QUEUE', [
    {
      field: 'taskType',
      message: `this queue carries ${expected} tasks only`,
      value: found,
    },
  ]);
}

/** Task id of a message that names none: derived from the SQS message id. */
function messageTaskId(record: SQSRecord): string {
  return `message-${record.messageId}`;
}

/**
 * What a broken envelope still tells: its id, type, business id and a
 * callback URL that passes the schema, so the sender can hear of it.
 */
function identityOf(
  raw: unknown,
  record: SQSRecord,
  schema: ReadTaskOptions['schema'],
): TaskIdentity {
  const fields = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<
    string,
    unknown
  >;
  const text = (key: string) =>
    typeof fields[key] === 'string' ? fields[key] : undefined;
  const id = schema.shape.id.safeParse(fields.id);
  const callback = schema.shape.callbackUrl.safeParse(fields.callbackUrl);
  return {
    taskId: id.success ? id.data : messageTaskId(record),
    taskType: text('taskType'),
    businessId: text('businessId'),
    callbackUrl: callback.success ? callback.data : undefined,
  };
}
