import { type Agent, type IncomingMessage, request } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { TasklaneError } from '../errors.ts';
import {
  FLAT_MAPS,
  type FlatMap,
  type JsonAnswer,
  type QueryAnswer,
  renderQueryAnswer,
} from './sqs-query-xml.ts';

/**
 * SQS's query protocol on top of fauxqs, which speaks SQS only in the JSON
 * protocol. Older clients (Debian's aws-cli 2.9, the Java SDK v1, boto3
 * before 2023) send a form-urlencoded POST, `Action=SendMessage&…`, and
 * read XML back. The messaging endpoint's front (emulators.ts) hands such
 * posts here: their parameters become a JSON request to fauxqs, and its
 * JSON answer becomes XML (sqs-query-xml.ts).
 */

/** The SQS actions fauxqs 2.4 serves; SNS's form posts pass through. */
export const SQS_QUERY_ACTIONS: ReadonlySet<string> = new Set([
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'CreateQueue',
  'DeleteMessage',
  'DeleteMessageBatch',
  'DeleteQueue',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListQueueTags',
  'ListQueues',
  'PurgeQueue',
  'ReceiveMessage',
  'SendMessage',
  'SendMessageBatch',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
]);

/** Request lists sent as `Name.N` (items) or `Name.N.Field` (entries). */
const REQUEST_LISTS: Readonly<Record<string, string>> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  StringListValue: 'StringListValues',
  BinaryListValue: 'BinaryListValues',
  SendMessageBatchRequestEntry: 'Entries',
  DeleteMessageBatchRequestEntry: 'Entries',
  ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};

/** Request maps sent as `Attribute.N.Name` + `Attribute.N.Value` and so on. */
const REQUEST_MAPS = new Map(
  Object.entries(FLAT_MAPS).map(([member, map]) => [
    map.element,
    { ...map, member },
  ]),
);

/** Members the JSON protocol takes as numbers; a form sends text. */
const INTEGER_MEMBERS: ReadonlySet<string> = new Set([
  'DelaySeconds',
  'MaxNumberOfMessages',
  'MaxResults',
  'VisibilityTimeout',
  'WaitTimeSeconds',
]);

/** CreateQueue alone spells its tag map `tags` in the JSON protocol. */
const MEMBER_RENAMES: Readonly<Record<string, Record<string, string>>> = {
  CreateQueue: { Tags: 'tags' },
};

/** One SQS request read from a query-protocol form. */
export interface SqsQuery {
  readonly action: string;
  /** The request as the JSON protocol shapes it. */
  readonly input: Record<string, unknown>;
}

/** A query parameter the JSON protocol cannot take, such as `DelaySeconds=soon`. */
export class InvalidQueryParameterError extends TasklaneError {
  constructor(name: string, value: string) {
    super(
      'INVALID_QUERY_PARAMETER',
      `Value ${value} for parameter ${name} is invalid. ` +
        'Reason: must be an integer.',
    );
  }
}

/**
 * Reads a form-urlencoded body as an SQS request in the JSON protocol's
 * shape; undefined when its `Action` is not an SQS action fauxqs serves.
 * `queueUrl` stands in for a missing `QueueUrl`: some clients post to the
 * queue URL itself instead of naming it. Throws InvalidQueryParameterError
 * for a number that is not an integer.
 *
 * @example
 * readSqsQuery('Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All')
 * // { action: 'ReceiveMessage',
 * //   input: { QueueUrl: 'u', AttributeNames: ['All'] } }
 */
export function readSqsQuery(
  form: string,
  queueUrl?: string,
): SqsQuery | undefined {
  const params = new URLSearchParams(form);
  const action = params.get('Action') ?? '';
  if (!SQS_QUERY_ACTIONS.has(action)) return undefined;
  params.delete('Action');
  params.delete('Version');

  const input = toJsonMembers(action, toTree(params));
  if (queueUrl && input.QueueUrl === undefined) input.QueueUrl = queueUrl;
  return { action, input };
}

/** Parameters split at their dots: `A.1.Name=x` is `{ A: { 1: { Name } } }`. */
interface FormTree {
  [name: string]: string | FormTree;
}

function toTree(params: URLSearchParams): FormTree {
  // No prototype: a parameter named `__proto__.x` stays a plain key.
  const root: FormTree = Object.create(null);
  for (const [key, value] of params) {
    const path = key.split('.');
    const last = path.pop() ?? key;
    let node = root;
    for (const name of path) {
      let child = node[name];
      if (typeof child !== 'object') {
        child = Object.create(null) as FormTree;
        node[name] = child;
      }
      node = child;
    }
    node[last] = value;
  }
  return root;
}

function toJsonMembers(
  action: string,
  tree: FormTree,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tree).map(([name, value]) =>
      toJsonMember(action, name, value),
    ),
  );
}

function toJsonMember(
  action: string,
  name: string,
  value: string | FormTree,
): [string, unknown] {
  const map = REQUEST_MAPS.get(name);
  if (map) {
    const member = MEMBER_RENAMES[action]?.[map.member] ?? map.member;
    return [member, toJsonMap(action, map, value)];
  }
  const list = REQUEST_LISTS[name];
  if (list) return [list, items(value).map((v) => toJsonValue(action, v))];
  if (INTEGER_MEMBERS.has(name) && typeof value === 'string') {
    return [name, toInteger(name, value)];
  }
  return [name, toJsonValue(action, value)];
}

function toJsonMap(
  action: string,
  map: FlatMap,
  value: string | FormTree,
): Record<string, unknown> {
  const entries = items(value).flatMap((entry) => {
    if (typeof entry === 'string') return [];
    const key = entry[map.key];
    const item = entry[map.value];
    if (typeof key !== 'string' || item === undefined) return [];
    return [[key, toJsonValue(action, item)]];
  });
  return Object.fromEntries(entries);
}

function toJsonValue(action: string, value: string | FormTree): unknown {
  return typeof value === 'string' ? value : toJsonMembers(action, value);
}

/** The items of `Name.1`, `Name.2`, … in the order of their numbers. */
function items(value: string | FormTree): (string | FormTree)[] {
  if (typeof value === 'string') return [value];
  return Object.entries(value)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, item]) => item);
}

function toInteger(name: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidQueryParameterError(name, value);
  return Number(value);
}

/** How the front reaches fauxqs's JSON protocol for one request. */
export interface JsonProtocolTarget {
  /** fauxqs's port on 127.0.0.1. */
  readonly port: number;
  readonly agent: Agent;
  /** Aborts the call, as when the client hangs up during a long poll. */
  readonly signal: AbortSignal;
}

/**
 * Answers a query-protocol form post through fauxqs's JSON protocol, in
 * the query protocol's XML; undefined when the form's `Action` is not an
 * SQS action, so the post goes to fauxqs as it came (SNS's, for one).
 */
export async function answerSqsQuery(
  form: string,
  req: IncomingMessage,
  target: JsonProtocolTarget,
): Promise<QueryAnswer | undefined> {
  let query: SqsQuery | undefined;
  try {
    query = readSqsQuery(form, queueUrlOfPath(req));
  } catch (error) {
    if (!(error instanceof InvalidQueryParameterError)) throw error;
    const action = new URLSearchParams(form).get('Action') ?? '';
    return renderQueryAnswer(action, rejected(error));
  }
  if (!query) return undefined;
  const answer = await callJsonProtocol(query, req, target);
  return renderQueryAnswer(query.action, answer);
}

/** The queue URL a client posted to, as the Java SDK v1 does; or none. */
function queueUrlOfPath(req: IncomingMessage): string | undefined {
  const path = new URL(req.url ?? '/', 'http://front').pathname;
  const host = req.headers.host ?? '127.0.0.1';
  return path === '/' ? undefined : `http://${host}${path}`;
}

/** A request the front turns down, worded as fauxqs words its errors. */
function rejected(error: Error): JsonAnswer {
  return {
    status: 400,
    queryError: 'InvalidParameterValue;Sender',
    body: JSON.stringify({ message: error.message }),
  };
}

/**
 * Posts a translated request to fauxqs. Host goes along so that queue URLs
 * name the public port, and Authorization so that fauxqs reads the region
 * from the credential scope.
 */
function callJsonProtocol(
  query: SqsQuery,
  req: IncomingMessage,
  target: JsonProtocolTarget,
): Promise<JsonAnswer> {
  const body = JSON.stringify(query.input);
  const { host, authorization } = req.headers;
  const headers = {
    ...(host ? { host } : {}),
    ...(authorization ? { authorization } : {}),
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amz-target': `AmazonSQS.${query.action}`,
  };
  const { port, agent, signal } = target;
  return new Promise((resolve, reject) => {
    request(
      { host: '127.0.0.1', port, agent, signal, method: 'POST', headers },
      (answer) => readAnswer(answer).then(resolve, reject),
    )
      .on('error', reject)
      .end(body);
  });
}

async function readAnswer(answer: IncomingMessage): Promise<JsonAnswer> {
  const body = await buffer(answer);
  return {
    status: answer.statusCode ?? 500,
    body: body.toString('utf8'),
    queryError: firstHeader(answer, 'x-amzn-query-error'),
    requestId: firstHeader(answer, 'x-amz-request-id'),
  };
}

function firstHeader(
  answer: IncomingMessage,
  name: string,
): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
