import type { z } from 'zod';

/** Base of every error tasklane raises; `code` is stable for programs. */
export class TasklaneError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The message body is not JSON. */
export class InvalidJsonError extends TasklaneError {
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('INVALID_JSON', `body is not valid JSON: ${detail}`, { cause });
  }
}

/** One problem found in a task, named by the path of its field. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
  readonly value?: unknown;
}

/** An envelope or payload breaks its schema; `issues` names each field. */
export class ValidationError extends TasklaneError {
  readonly issues: readonly FieldIssue[];

  constructor(code: string, issues: readonly FieldIssue[]) {
    super(code, issues.map(describeIssue).join('; '));
    this.issues = issues;
  }
}

/** The task type has no module in the registry. */
export class UnknownTaskTypeError extends TasklaneError {
  readonly taskType: string;

  constructor(taskType: string, known: readonly string[]) {
    super(
      'UNKNOWN_TASK_TYPE',
      `field taskType: unknown task type ${JSON.stringify(taskType)} ` +
        `(known: ${known.join(', ')})`,
    );
    this.taskType = taskType;
  }
}

/** The business id names nothing that exists. */
export class BusinessIdNotFoundError extends TasklaneError {
  constructor(taskType: string, businessId: string, detail: string) {
    super(
      'BUSINESS_ID_NOT_FOUND',
      `field businessId: ${JSON.stringify(businessId)} does not exist ` +
        `for ${taskType}: ${detail}`,
    );
  }
}

/** The work ran past the task's time budget and was aborted. */
export class TaskTimeoutError extends TasklaneError {
  constructor(timeoutMs: number) {
    super('TASK_TIMEOUT', `task ran longer than its ${timeoutMs} ms budget`);
  }
}

/** A queue holds as many messages as the standard allows. */
export class QueueFullError extends TasklaneError {
  readonly queueName: string;
  readonly depth: number;
  readonly capacity: number;

  constructor(queueName: string, depth: number, capacity: number) {
    super(
      'QUEUE_FULL',
      `queue ${queueName} is full: ${depth} messages of at most ${capacity}`,
    );
    this.queueName = queueName;
    this.depth = depth;
    this.capacity = capacity;
  }
}

function describeIssue(issue: FieldIssue): string {
  const got = 'value' in issue ? ` (got ${preview(issue.value)})` : '';
  return `field ${issue.field || '(root)'}: ${issue.message}${got}`;
}

/** A short, single-line rendering of a value for error messages. */
export function preview(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Turns zod issues into field issues, with the offending value when any. */
export function fieldIssues(
  error: z.ZodError,
  input: unknown,
  prefix = '',
): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => prefixed(prefix, [...path, key]));
      return { field: keys.join(', '), message: 'is not allowed' };
    }
    const field = prefixed(prefix, path);
    const value = valueAt(input, path);
    return value === undefined
      ? { field, message: issue.message }
      : { field, message: issue.message, value };
  });
}

function prefixed(prefix: string, path: PropertyKey[]): string {
  return [prefix, ...path.map(String)].filter(Boolean).join('.');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
