import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import type { AwsClientOptions } from '../aws-clients.ts';
import { answerSqsQuery } from './sqs-query-protocol.ts';
import type { QueryAnswer } from './sqs-query-xml.ts';

/** Ports the emulators listen on; 0 picks a free one. */
export interface EmulatorPorts {
  /** SQS, SNS and S3 on one port. @default 4566 */
  readonly messaging?: number;
  /** DynamoDB. @default 4567 */
  readonly dynamodb?: number;
}

/** fauxqs and dynalite, running in this process. */
export interface Emulators {
  /** SQS (JSON and query protocols), SNS and S3. */
  readonly messagingEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly clientOptions: AwsClientOptions;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs and dynalite on loopback, in memory. fauxqs listens on a
 * free internal port behind a front on the messaging port: the front
 * passes every request through, streamed, and answers SQS's query
 * protocol, which fauxqs lacks (see sqs-query-protocol.ts).
 *
 * Queue URLs carry the public port with nothing rewritten: fauxqs builds a
 * queue's URL (`http://sqs.<region>.localhost:<port>/000000000000/<name>`)
 * from the Host header of the request that creates it, and the front
 * passes Host on unchanged.
 */
export async function startEmulators(
  ports: EmulatorPorts = {},
): Promise<Emulators> {
  const fauxqs = await startFauxqsOnLoopback();
  const front = await startFront(ports.messaging ?? 4566, fauxqs.port).catch(
    async (error) => {
      await fauxqs.stop();
      throw error;
    },
  );
  const dynamo = await listen(
    // Tables are ACTIVE at once: nothing here waits on real provisioning.
    dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
    ports.dynamodb ?? 4567,
  );
  const messagingEndpoint = `http://127.0.0.1:${portOf(front.server)}`;
  const dynamodbEndpoint = `http://127.0.0.1:${portOf(dynamo)}`;

  return {
    messagingEndpoint,
    dynamodbEndpoint,
    clientOptions: { messagingEndpoint, dynamodbEndpoint, region: 'us-east-1' },
    async stop() {
      // The front first: closing it drops its clients' long polls.
      await front.close();
      await Promise.all([fauxqs.stop(), close(dynamo)]);
    },
  };
}

/**
 * fauxqs on a free port of 127.0.0.1 only. Its own `startFauxqs` listens on
 * every interface and reads FAUXQS_* variables; the app alone does neither.
 */
async function startFauxqsOnLoopback() {
  const app = buildApp({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: portOf(app.server), stop: () => app.close() };
}

/** Where the front passes requests on: fauxqs on loopback. */
interface Upstream {
  readonly port: number;
  readonly agent: Agent;
}

async function startFront(port: number, fauxqsPort: number) {
  const upstream = { port: fauxqsPort, agent: new Agent({ keepAlive: true }) };
  const server = createServer((req, res) => {
    route(req, res, upstream).catch((error) => fail(res, error));
  });
  // As long as fauxqs's own (Fastify's) 72 s: a client that reuses an idle
  // connection must not find it closed under it.
  server.keepAliveTimeout = 72_000;
  await listen(server, port);
  return {
    server,
    async close() {
      await close(server);
      upstream.agent.destroy();
    },
  };
}

/** Form posts may be SQS's query protocol; all else passes through. */
async function route(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
): Promise<void> {
  const signal = abortWhenClientLeaves(res);
  if (!isFormPost(req)) return forward(req, res, { ...upstream, signal });

  const form = await buffer(req);
  const target = { ...upstream, signal };
  const answer = await answerSqsQuery(form.toString('utf8'), req, target);
  if (answer) reply(res, answer);
  else forward(req, res, target, form);
}

function isFormPost(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.toLowerCase() ?? '';
  return (
    req.method === 'POST' &&
    type.startsWith('application/x-www-form-urlencoded')
  );
}

/** A long poll whose client hung up must not take messages for nobody. */
function abortWhenClientLeaves(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}

function reply(res: ServerResponse, answer: QueryAnswer): void {
  res.writeHead(answer.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(answer.xml),
  });
  res.end(answer.xml);
}

/**
 * Passes a request to fauxqs and its answer back, streamed, dropping only
 * hop-by-hop headers. `body` is the body when the front already read it.
 */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: Upstream & { signal: AbortSignal },
  body?: Buffer,
): void {
  const call = request({
    ...target,
    host: '127.0.0.1',
    method: req.method,
    path: req.url,
    headers: endToEnd(req.headers),
  });
  call.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
    pipeline(answer, res, () => {});
  });
  call.on('error', (error) => fail(res, error));
  if (body) call.end(body);
  else pipeline(req, call, () => {});
}

/** Headers about one connection, which a proxy must not pass on. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'expect',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)),
  );
}

/** fauxqs unreachable or the connection broken: 502, or a cut answer. */
function fail(res: ServerResponse, error: Error): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end(`tasklane local endpoint: fauxqs failed: ${error.message}\n`);
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
