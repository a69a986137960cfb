/**
 * The local control surface: what `tasklane scale` and `tasklane throttle`
 * change on AWS (event source mappings, an SSM parameter), held here for
 * the local pipeline, over a small HTTP JSON API:
 *
 * - `GET /throttle` answers `{ "rate": 50 }`, or `{ "rate": null }` for
 *   no limit; `PUT /throttle` takes the same body and answers it back.
 * - `PUT /scale/<taskType>` takes `{ "maxConcurrency": 20 }` and answers
 *   `{ "taskType": "...", "maxConcurrency": 20 }`.
 * - `GET /config` answers
 *   `{ "sendRateLimit": 50, "maxConcurrency": { "<taskType>": 20 } }`.
 *
 * A rejected request answers 400 (bad body), 404 (unknown path or task
 * type) or 405, with `{ "error": "..." }`.
 */
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { RATE_LIMIT_RANGE } from '../ops/rate-limit.ts';

/** Bounds of a task type's maximum concurrency, as on AWS. */
export const MAX_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;

/** Options of `startControlServer`. */
export interface ControlServerOptions {
  /** 0 picks a free port. @default 4569 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Applies a task type's new maximum concurrency to its pollers; a throw
   * rejects the request with its message.
   */
  readonly onScale?: (
    taskType: string,
    maxConcurrency: number,
  ) => void | Promise<void>;
  /** Task types that may be scaled. @default - any */
  readonly taskTypes?: readonly string[];
  /** Maximum concurrency of each task type at start. @default - none */
  readonly maxConcurrency?: Readonly<Record<string, number>>;
}

/** What the control server holds now. */
export interface ControlConfig {
  /** Tasks per second each producer may send; null for no limit. */
  readonly sendRateLimit: number | null;
  /** Maximum concurrency by task type, as last set or given at start. */
  readonly maxConcurrency: Readonly<Record<string, number>>;
}

/** A running control server. */
export interface ControlServer {
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly port: number;
  config(): ControlConfig;
  stop(): Promise<void>;
}

/** The default port: next to the emulators' 4566 and 4567. */
export const DEFAULT_CONTROL_PORT = 4569;

/** A request the server refuses, with its HTTP status. */
class RequestError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface State {
  sendRateLimit: number | null;
  maxConcurrency: Record<string, number>;
}

/**
 * Starts the control server.
 *
 * @example
 * const control = await startControlServer({
 *   onScale: (taskType, n) => pipeline.setMaxConcurrency(taskType, n),
 * });
 * // tasklane throttle --rate 50 --endpoint http://127.0.0.1:4566
 */
export async function startControlServer(
  options: ControlServerOptions = {},
): Promise<ControlServer> {
  const state: State = {
    sendRateLimit: null,
    maxConcurrency: { ...options.maxConcurrency },
  };
  const server = createServer((request, response) => {
    handle(options, state, request).then(
      (body) => reply(response, 200, body),
      (error: unknown) => replyError(response, error),
    );
  });
  server.listen(
    options.port ?? DEFAULT_CONTROL_PORT,
    options.host ?? '127.0.0.1',
  );
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    config: () => snapshot(state),
    stop: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function handle(
  options: ControlServerOptions,
  state: State,
  request: IncomingMessage,
): Promise<unknown> {
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  const route = `${request.method} ${path}`;
  if (route === 'GET /config') return snapshot(state);
  if (route === 'GET /throttle') return { rate: state.sendRateLimit };
  if (route === 'PUT /throttle') {
    state.sendRateLimit = readRate(await readBody(request));
    return { rate: state.sendRateLimit };
  }
  const scale = /^\/scale\/([^/]+)$/.exec(path);
  if (scale && request.method === 'PUT') {
    const taskType = decodeURIComponent(scale[1] ?? '');
    return setScale(options, state, taskType, await readBody(request));
  }
  const known = ['/config', '/throttle'].includes(path) || scale;
  throw new RequestError(known ? 405 : 404, `no route ${route}`);
}

async function setScale(
  options: ControlServerOptions,
  state: State,
  taskType: string,
  body: unknown,
): Promise<unknown> {
  if (options.taskTypes && !options.taskTypes.includes(taskType)) {
    throw new RequestError(404, `unknown task type ${taskType}`);
  }
  const maxConcurrency = readMaxConcurrency(body);
  try {
    await options.onScale?.(taskType, maxConcurrency);
  } catch (error) {
    throw new RequestError(400, (error as Error).message);
  }
  state.maxConcurrency[taskType] = maxConcurrency;
  return { taskType, maxConcurrency };
}

function readRate(body: unknown): number | null {
  const rate = field(body, 'rate');
  if (rate === null) return null;
  const { min, max } = RATE_LIMIT_RANGE;
  if (typeof rate !== 'number' || !(rate >= min && rate <= max)) {
    throw new RequestError(
      400,
      `rate must be null or a number of tasks per second from ${min} to ` +
        `${max} (got ${JSON.stringify(rate)})`,
    );
  }
  return rate;
}

function readMaxConcurrency(body: unknown): number {
  const value = field(body, 'maxConcurrency');
  const { min, max } = MAX_CONCURRENCY_RANGE;
  if (
    !Number.isInteger(value) ||
    (value as number) < min ||
    (value as number) > max
  ) {
    throw new RequestError(
      400,
      `maxConcurrency must be a whole number of concurrent executions ` +
        `from ${min} to ${max} (got ${JSON.stringify(value)})`,
    );
  }
  return value as number;
}

function field(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || !(name in body)) {
    throw new RequestError(400, `the body must be a JSON object with ${name}`);
  }
  return (body as Record<string, unknown>)[name];
}

/** Bodies are a few bytes; a larger one is refused unread. */
const MAX_BODY_BYTES = 4096;

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) {
      throw new RequestError(413, `the body exceeds ${MAX_BODY_BYTES} bytes`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestError(400, 'the body is not JSON');
  }
}

function snapshot(state: State): ControlConfig {
  return {
    sendRateLimit: state.sendRateLimit,
    maxConcurrency: { ...state.maxConcurrency },
  };
}

function reply(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function replyError(response: ServerResponse, error: unknown) {
  const status = error instanceof RequestError ? error.status : 500;
  reply(response, status, { error: (error as Error).message });
}
