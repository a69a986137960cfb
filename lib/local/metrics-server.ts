import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createPipelineRegistry, packageVersion } from './prometheus.ts';
import { sqsQueueReader } from './prometheus-queues.ts';
import type { LocalPipeline } from './runtime.ts';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The running pipeline whose metrics are served. */
  readonly pipeline: LocalPipeline;
  /** Port to listen on, 0 to 65535; 0 picks a free one. */
  readonly port: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Label `version` of `tasklane_info`. @default - package.json's */
  readonly version?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  /** Where Prometheus scrapes, such as `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** The port listened on, the one picked when 0 was asked. */
  readonly port: number;
  /** The registry served, apart from prom-client's global one. */
  readonly registry: Registry;
  /** Closes the server and its open connections. */
  stop(): Promise<void>;
}

/**
 * Serves the local pipeline's metrics in Prometheus's text format on
 * `GET /metrics`; see prometheus.ts for the names. Every scrape reads the
 * consumers' totals and asks SQS for the queue counts; a failed read
 * answers 500, which Prometheus records as a failed scrape.
 *
 * @example
 * const pipeline = await startLocalPipeline({ registry: builtInRegistry });
 * const server = await startMetricsServer({ pipeline, port: 9464 });
 * // scrape server.url, then:
 * await server.stop();
 * await pipeline.stop();
 */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const { pipeline } = options;
  const registry = createPipelineRegistry(pipeline, {
    version: options.version ?? packageVersion(),
    readQueue: sqsQueueReader(pipeline.clients.sqs),
  });
  const server = createServer((request, response) => {
    void answer(registry, request, response);
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port, host);

  return {
    url: `http://${hostInUrl(host)}:${port}/metrics`,
    port,
    registry,
    stop: () => close(server),
  };
}

async function answer(
  registry: Registry,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== '/metrics') {
    return send(response, 404, 'not found: metrics are on /metrics\n');
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'method not allowed: use GET\n');
  }

  try {
    const text = await registry.metrics();
    send(response, 200, text, registry.contentType);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    send(response, 500, `metrics could not be read: ${message}\n`);
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(body);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive connections of a scraper would hold close() open.
    server.closeAllConnections();
  });
}

/** An IPv6 address goes in brackets in a URL. */
function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
