/**
 * The soak's business system: one HTTP server on loopback that serves
 * every callback target (`/target-<n>`), verifies each request's signature,
 * keeps each task's status once by task id and counts the copies, and
 * notes when each request to each target arrived.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import type { StatusEntry } from '../lib/callbacks/pending.ts';
import type { SigningKey } from '../lib/callbacks/secrets.ts';
import {
  SIGNATURE_HEADER,
  verifyCallback,
} from '../lib/callbacks/signature.ts';

/** A task's status as the receiver kept it, with how often it came. */
export interface ReceivedStatus {
  readonly status: StatusEntry['status'];
  readonly attempts: number;
  copies: number;
}

/** What the receiver saw. */
export interface SoakReceiver {
  /** URL of callback target number `index`. */
  urlOf(index: number): string;
  /** Each task's status, by task id. */
  readonly statuses: ReadonlyMap<string, ReceivedStatus>;
  /** Arrival times (ms since the epoch) of the requests, by target path. */
  readonly arrivals: ReadonlyMap<string, readonly number[]>;
  /** Requests refused for a bad signature or body. */
  readonly refused: number;
  /** Copies of a status beyond its first. */
  readonly duplicates: number;
  stop(): Promise<void>;
}

/** Starts the receiver on a free port of 127.0.0.1. */
export async function startSoakReceiver(
  signingKey: SigningKey,
): Promise<SoakReceiver> {
  const statuses = new Map<string, ReceivedStatus>();
  const arrivals = new Map<string, number[]>();
  const counts = { refused: 0, duplicates: 0 };

  const server = createServer((request, response) => {
    const at = Date.now();
    receive(request, signingKey)
      .then((received) => {
        if (!received) {
          counts.refused += 1;
          return answer(response, 401);
        }
        const path = request.url ?? '/';
        const times = arrivals.get(path) ?? [];
        arrivals.set(path, times);
        times.push(at);
        counts.duplicates += keep(statuses, received);
        answer(response, 204);
      })
      .catch(() => answer(response, 500));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    urlOf: (index) => `http://127.0.0.1:${port}/target-${index}`,
    statuses,
    arrivals,
    get refused() {
      return counts.refused;
    },
    get duplicates() {
      return counts.duplicates;
    },
    stop: () => close(server),
  };
}

/** The statuses of a verified request; undefined if it fails the checks. */
async function receive(
  request: IncomingMessage,
  signingKey: SigningKey,
): Promise<readonly StatusEntry[] | undefined> {
  const body = await text(request);
  const verdict = verifyCallback({
    body,
    header: request.headers[SIGNATURE_HEADER.toLowerCase()] as string,
    secrets: { [signingKey.keyId]: signingKey.secret },
  });
  if (!verdict.valid) return undefined;
  const parsed = JSON.parse(body) as { statuses?: StatusEntry[] };
  return Array.isArray(parsed.statuses) ? parsed.statuses : undefined;
}

/** Keeps each status once; resolves to the number of repeats among them. */
function keep(
  statuses: Map<string, ReceivedStatus>,
  received: readonly StatusEntry[],
): number {
  let repeats = 0;
  for (const entry of received) {
    const known = statuses.get(entry.taskId);
    if (known) {
      known.copies += 1;
      repeats += 1;
      continue;
    }
    const { status, attempts } = entry;
    statuses.set(entry.taskId, { status, attempts, copies: 1 });
  }
  return repeats;
}

function answer(response: ServerResponse, status: number): void {
  if (!response.headersSent) response.writeHead(status).end();
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
