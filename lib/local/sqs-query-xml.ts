import { randomUUID } from 'node:crypto';

/**
 * The SQS query protocol's answers: the XML that clients of the older
 * protocol parse, rendered from what fauxqs answers in the JSON protocol.
 * The request side and the HTTP front are in `sqs-query-protocol.ts`.
 */

/** Namespace of every query-protocol answer of the 2012-11-05 API. */
const NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** A map the query protocol flattens into one element per entry. */
export interface FlatMap {
  /** Element of one entry; in requests, the parameter prefix. */
  readonly element: string;
  /** Element (or parameter suffix) of the entry's key. */
  readonly key: string;
  /** Element (or parameter suffix) of the entry's value. */
  readonly value: string;
}

/** JSON maps by member name, as the query protocol spells them. */
export const FLAT_MAPS: Readonly<Record<string, FlatMap>> = {
  Attributes: { element: 'Attribute', key: 'Name', value: 'Value' },
  MessageAttributes: {
    element: 'MessageAttribute',
    key: 'Name',
    value: 'Value',
  },
  MessageSystemAttributes: {
    element: 'MessageSystemAttribute',
    key: 'Name',
    value: 'Value',
  },
  Tags: { element: 'Tag', key: 'Key', value: 'Value' },
};

/** JSON lists in answers, by the element each item becomes. */
const FLAT_LISTS: Readonly<Record<string, string>> = {
  QueueUrls: 'QueueUrl',
  queueUrls: 'QueueUrl',
  Messages: 'Message',
  Failed: 'BatchResultErrorEntry',
  StringListValues: 'StringListValue',
  BinaryListValues: 'BinaryListValue',
};

/** Actions whose answer carries only metadata: SQS sends no `<XResult>`. */
const WITHOUT_RESULT: ReadonlySet<string> = new Set([
  'ChangeMessageVisibility',
  'DeleteMessage',
  'DeleteQueue',
  'PurgeQueue',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
]);

/** fauxqs's answer, in the JSON protocol, to one translated request. */
export interface JsonAnswer {
  readonly status: number;
  /** The JSON body: the result, or `{ __type, message }` on errors. */
  readonly body: string;
  /** Header `x-amzn-query-error` of errors: `Code;Sender` or `;Receiver`. */
  readonly queryError?: string;
  /** @default - a new UUID */
  readonly requestId?: string;
}

/** An answer in the query protocol. */
export interface QueryAnswer {
  readonly status: number;
  readonly xml: string;
}

/**
 * Renders a JSON-protocol answer as the query protocol's XML, keeping the
 * HTTP status: a result as `<XResponse>`, an error as `<ErrorResponse>`.
 *
 * @example
 * renderQueryAnswer('GetQueueUrl', { status: 200, body: '{"QueueUrl":"…"}' })
 * // { status: 200, xml: '…<GetQueueUrlResult><QueueUrl>…' }
 */
export function renderQueryAnswer(
  action: string,
  answer: JsonAnswer,
): QueryAnswer {
  const requestId = answer.requestId ?? randomUUID();
  const json = parseObject(answer.body);
  const xml =
    answer.status < 300
      ? renderResult(action, json, requestId)
      : renderError(answer, json, requestId);
  return { status: answer.status, xml };
}

function renderResult(
  action: string,
  json: JsonObject,
  requestId: string,
): string {
  const result = WITHOUT_RESULT.has(action)
    ? ''
    : element(`${action}Result`, renderMembers(action, json));
  const metadata = element('ResponseMetadata', element('RequestId', requestId));
  return document(`${action}Response`, result + metadata);
}

function renderError(
  answer: JsonAnswer,
  json: JsonObject,
  requestId: string,
): string {
  const { code, type } = errorCode(answer, json);
  const message = typeof json.message === 'string' ? json.message : code;
  const error = element(
    'Error',
    element('Type', type) +
      element('Code', escapeXml(code)) +
      element('Message', escapeXml(message)),
  );
  return document('ErrorResponse', error + element('RequestId', requestId));
}

/**
 * The query protocol's error code: from `x-amzn-query-error` when fauxqs
 * sends it (`AWS.SimpleQueueService.NonExistentQueue`, where the JSON
 * protocol says `QueueDoesNotExist`), else the JSON `__type` after its `#`.
 */
function errorCode(answer: JsonAnswer, json: JsonObject) {
  const fault = answer.status >= 500 ? 'Receiver' : 'Sender';
  const [queryCode, queryType] = (answer.queryError ?? '').split(';');
  if (queryCode) return { code: queryCode, type: queryType || fault };
  const jsonType = typeof json.__type === 'string' ? json.__type : '';
  const code = jsonType.split('#').pop() || 'InternalFailure';
  return { code, type: fault };
}

type JsonObject = Record<string, unknown>;

function renderMembers(action: string, json: JsonObject): string {
  return Object.entries(json)
    .map(([name, value]) => renderMember(action, name, value))
    .join('');
}

function renderMember(action: string, name: string, value: unknown): string {
  const map = FLAT_MAPS[name];
  if (map && isObject(value)) {
    return Object.entries(value)
      .map(([key, item]) => renderMapEntry(action, map, key, item))
      .join('');
  }
  if (Array.isArray(value)) {
    const item = listElement(action, name);
    return value.map((v) => element(item, renderValue(action, v))).join('');
  }
  return value == null ? '' : element(name, renderValue(action, value));
}

function renderMapEntry(
  action: string,
  map: FlatMap,
  key: string,
  value: unknown,
): string {
  return element(
    map.element,
    element(map.key, escapeXml(key)) +
      element(map.value, renderValue(action, value)),
  );
}

function renderValue(action: string, value: unknown): string {
  return isObject(value)
    ? renderMembers(action, value)
    : escapeXml(String(value));
}

/** `Successful` of `SendMessageBatch` is `<SendMessageBatchResultEntry>`s. */
function listElement(action: string, member: string): string {
  if (member === 'Successful') return `${action}ResultEntry`;
  return FLAT_LISTS[member] ?? member;
}

function document(root: string, content: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<${root} xmlns="${NAMESPACE}">${content}</${root}>`
  );
}

function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A parser turns a raw CR into LF; a message body keeps it only escaped.
  '\r': '&#xD;',
};

/** Escapes text for an XML element, keeping carriage returns intact. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (char) => XML_ESCAPES[char] ?? char);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The answer's JSON object; a body that is not one reads as empty. */
function parseObject(body: string): JsonObject {
  try {
    const json: unknown = JSON.parse(body);
    return isObject(json) ? json : {};
  } catch {
    return {};
  }
}
