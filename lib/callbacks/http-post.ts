/**
 * One POST to a vetted callback target. It connects to the address the
 * guard vetted, never resolving the host again, follows no redirect (a 3xx
 * is an answer like any other), and gives up after a time limit that
 * covers connecting, sending and reading the answer.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { DeliveryFailedError } from './errors.ts';
import type { VettedTarget } from './target-guard.ts';

/** One request to send. */
export interface PostRequest {
  readonly target: VettedTarget;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** The receiver's answer. */
export interface PostAnswer {
  readonly status: number;
  /** The first characters of the answer's body, for error reports. */
  readonly excerpt: string;
}

/** Characters of an answer's body kept; the rest is read and dropped. */
const EXCERPT_LENGTH = 512;

/**
 * Sends the request and resolves to the answer, whatever its status.
 * Rejects with DeliveryFailedError (DELIVERY_TIMEOUT or
 * DELIVERY_NETWORK_ERROR) when no complete answer arrives in time.
 */
export function postJson(request: PostRequest): Promise<PostAnswer> {
  const { url, address, family } = request.target;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const signal = AbortSignal.timeout(request.timeoutMs);

  return new Promise<PostAnswer>((resolve, reject) => {
    const fail = (cause: unknown) =>
      reject(transportError(url, request.timeoutMs, signal, cause));
    const outgoing = send(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(request.body)),
        'user-agent': 'tasklane-callbacks',
        ...request.headers,
      },
      lookup: pinnedLookup(address, family),
      // One request a minute per target: a pooled socket would gain nothing
      // and would outlive the delivery.
      agent: false,
      signal,
    });
    outgoing.on('error', fail);
    outgoing.on('response', (incoming) => {
      let excerpt = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => {
        if (excerpt.length < EXCERPT_LENGTH) {
          excerpt = (excerpt + chunk).slice(0, EXCERPT_LENGTH);
        }
      });
      incoming.on('error', fail);
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode ?? 0, excerpt }),
      );
    });
    outgoing.end(request.body);
  });
}

/** A lookup that answers with the vetted address, whatever is asked. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function transportError(
  url: URL,
  timeoutMs: number,
  signal: AbortSignal,
  cause: unknown,
): DeliveryFailedError {
  if (signal.aborted) {
    return new DeliveryFailedError(
      'DELIVERY_TIMEOUT',
      `no answer from ${url.origin} within ${timeoutMs} ms`,
      { cause },
    );
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DeliveryFailedError(
    'DELIVERY_NETWORK_ERROR',
    `request to ${url.origin} failed: ${detail}`,
    { cause },
  );
}
