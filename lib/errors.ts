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
    // The parser quotes a piece of the body, which may cut a surrogate pair
    // in two; the message travels as an SQS attribute, which must be
    // well-formed Unicode.
    super('INVALID_JSON', `body is not valid JSON: ${detail.toWellFormed()}`, {
      cause,
    });
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

/** Longest preview of a value in an error message, in characters. */
const PREVIEW_LIMIT = 80;

/**
 * A short, single-line rendering of a value for error messages: JSON where
 * it can be, never longer than 80 characters, and never throwing, however
 * deep, cyclic or exotic the value.
 */
export function preview(value: unknown): string {
  const text = render(value, PREVIEW_LIMIT + 1);
  return text.length > PREVIEW_LIMIT
    ? `${cut(text, PREVIEW_LIMIT - 3)}...`
    : text;
}

/**
 * JSON-like text of a value, written only until `room` characters exist:
 * each level of nesting costs a character, so the walk stays shallow and
 * ends even on a value nested 100,000 deep or a cycle.
 */
function render(value: unknown, room: number): string {
  if (room <= 0) return '';
  if (Array.isArray(value)) {
    return renderItems('[', ']', value.length, room, (i, left) =>
      render(value[i], left),
    );
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    return renderItems('{', '}', keys.length, room, (i, left) => {
      const key = quote(String(keys[i]), left);
      return `${key}:${render(value[String(keys[i])], left - key.length - 1)}`;
    });
  }
  return scalar(value, room);
}

function renderItems(
  open: string,
  close: string,
  count: number,
  room: number,
  item: (index: number, room: number) => string,
): string {
  let text = open;
  for (let i = 0; i < count && text.length < room; i++) {
    text += (i > 0 ? ',' : '') + item(i, room - text.length - 1);
  }
  return text + close;
}

function scalar(value: unknown, room: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value, room);
    case 'number':
      // JSON would write Infinity and NaN as null.
      return Number.isFinite(value) ? JSON.stringify(value) : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return '[function]';
    case 'symbol':
      return value.toString();
    default:
      return safeStringify(value);
  }
}

/** Booleans, null and objects such as dates, as JSON.stringify writes them. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A JSON string literal of at most about `room` characters. JSON escapes
 * control characters and unpaired surrogates; U+FFFE and U+FFFF are escaped
 * too, since SQS refuses them in message attributes.
 */
function quote(text: string, room: number): string {
  const head = text.length > room ? cut(text, room) : text;
  return JSON.stringify(head).replace(
    /[\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/** The first `length` characters, without splitting a surrogate pair. */
function cut(text: string, length: number): string {
  const last = text.charCodeAt(length - 1);
  const splitsPair = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, splitsPair ? length - 1 : length);
}

/** Most unknown keys an issue names; the rest are counted. */
const LISTED_KEYS = 10;

/** Turns zod issues into field issues, with the offending value when any. */
export function fieldIssues(
  error: z.ZodError,
  input: unknown,
  prefix = '',
): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return {
        field: unknownKeys(prefix, path, issue.keys),
        message: 'is not allowed',
      };
    }
    const field = fieldPath(prefix, path);
    const value = valueAt(input, path);
    return value === undefined
      ? { field, message: issue.message }
      : { field, message: issue.message, value };
  });
}

function unknownKeys(
  prefix: string,
  path: PropertyKey[],
  keys: readonly string[],
): string {
  const named = keys
    .slice(0, LISTED_KEYS)
    .map((key) => fieldPath(prefix, [...path, key]));
  const more = keys.length - named.length;
  return named.join(', ') + (more > 0 ? ` (and ${more} more)` : '');
}

/**
 * The path of a field as errors name it, such as `payload.items.0.sku`.
 * A key that is not a short plain name is previewed as a JSON string, so
 * that spaces, dots, control characters, unpaired surrogates and sheer
 * length cannot disguise the path or break the message.
 */
export function fieldPath(
  prefix: string,
  path: readonly PropertyKey[],
): string {
  const segments = path.map((key) =>
    typeof key === 'string' && !isPlainKey(key) ? preview(key) : String(key),
  );
  return [prefix, ...segments].filter(Boolean).join('.');
}

function isPlainKey(key: string): boolean {
  return key.length <= PREVIEW_LIMIT && /^[A-Za-z_$][\w$]*$|^\d+$/.test(key);
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
