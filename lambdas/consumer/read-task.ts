import type { SQSRecord } from 'aws-lambda';
import type { Envelope, envelopeSchema } from '../../lib/envelope.ts';
import {
  fieldIssues,
  fieldPath,
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
  const payload = readPayload(module, raw as RawEnvelope);
  if (payload instanceof ValidationError) throw fail(payload);
  return { envelope, payload: payload.data, module, identity };
}

/** An envelope as JSON.parse made it, once the schema accepted it. */
type RawEnvelope = { readonly payload: Record<string, unknown> };

/**
 * Checks the payload as parsed, not the envelope's copy of it: zod leaves
 * out a `__proto__` key when it copies a record, which would hide that key
 * from a strict payload schema.
 */
function readPayload(
  module: TaskModule,
  raw: RawEnvelope,
): ValidationError | { data: unknown } {
  const illFormed = illFormedText(raw.payload);
  if (illFormed) return illFormedPayload(raw.payload, illFormed);
  const payload = module.payloadSchema.safeParse(raw.payload);
  if (payload.success) return { data: payload.data };
  const issues = fieldIssues(payload.error, raw.payload, 'payload');
  return new ValidationError('INVALID_PAYLOAD', issues);
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

/** A value met while walking a payload, linked to its parent for its path. */
interface Visit {
  readonly value: unknown;
  readonly key?: PropertyKey;
  readonly parent?: Visit;
}

/**
 * The path of the first string or key holding an unpaired surrogate, which
 * JSON can escape (`"\\ud800"`) but UTF-8, and so DynamoDB, SNS and SQS
 * attributes, cannot carry. Walks with a stack and parent links, so a body
 * nested 100,000 deep costs neither the call stack nor quadratic time.
 */
function illFormedText(value: unknown): PropertyKey[] | undefined {
  const stack: Visit[] = [{ value }];
  for (let visit = stack.pop(); visit; visit = stack.pop()) {
    const current = visit.value;
    if (typeof current === 'string' && !current.isWellFormed()) {
      return pathOf(visit);
    }
    if (typeof current !== 'object' || current === null) continue;
    const isArray = Array.isArray(current);
    for (const [key, child] of Object.entries(current)) {
      const next = {
        value: child,
        key: isArray ? Number(key) : key,
        parent: visit,
      };
      if (!key.isWellFormed()) return pathOf(next);
      stack.push(next);
    }
  }
  return undefined;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) {
    path.unshift(at.key as PropertyKey);
  }
  return path;
}

function illFormedPayload(
  payload: unknown,
  path: PropertyKey[],
): ValidationError {
  const key = path.at(-1);
  const value = path.reduce<unknown>(
    (current, step) => (current as Record<PropertyKey, unknown>)[step],
    payload,
  );
  const badKey = typeof key === 'string' && !key.isWellFormed();
  return new ValidationError('INVALID_PAYLOAD', [
    {
      field: fieldPath('payload', path),
      message: badKey
        ? 'names a key with an unpaired surrogate'
        : 'must not contain unpaired surrogates',
      ...(badKey ? {} : { value }),
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
  // Only values that pass their own field's schema: a 500 KB business id
  // would make the status outbox item too large for DynamoDB, and the
  // record would never reach its final status.
  const valid = <K extends 'taskType' | 'businessId' | 'callbackUrl'>(
    key: K,
  ) => {
    const result = schema.shape[key].safeParse(fields[key]);
    return result.success ? (result.data as string | undefined) : undefined;
  };
  const id = schema.shape.id.safeParse(fields.id);
  return {
    taskId: id.success ? id.data : messageTaskId(record),
    taskType: valid('taskType'),
    businessId: valid('businessId'),
    callbackUrl: valid('callbackUrl'),
  };
}
