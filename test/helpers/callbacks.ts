import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../../lib/aws-clients.ts';
import type { DeliveryTiming } from '../../lib/callbacks/config.ts';
import { CALLBACK_DEAD_LETTER_ATTRIBUTES } from '../../lib/callbacks/dead-letter.ts';
import {
  type LocalCallbacks,
  startLocalCallbacks,
} from '../../lib/callbacks/local.ts';
import type { StatusEntry } from '../../lib/callbacks/pending.ts';
import { SIGNATURE_HEADER } from '../../lib/callbacks/signature.ts';
import { type Emulators, startEmulators } from '../../lib/local/emulators.ts';
import {
  createLocalResources,
  type LocalResources,
} from '../../lib/local/resources.ts';
import { createStatusOutbox, type StatusOutbox } from '../../lib/outbox.ts';

/** The key the tests sign with. */
export const TEST_KEY = {
  keyId: 'test-1',
  secret: 'a-test-secret-of-32-characters!!',
};

/** Short timings: a 300 ms interval instead of a minute. */
export const FAST_TIMING: DeliveryTiming = {
  intervalMs: 300,
  requestTimeoutMs: 2_000,
  maxBackoffMs: 1_200,
  indexLagMs: 50,
};

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly path: string;
  /** Arrival, in ms since the epoch. */
  readonly at: number;
  readonly body: string;
  readonly signature: string | undefined;
  /** The status the receiver answered with. */
  readonly answeredWith: number;
  readonly statuses: readonly StatusEntry[];
}

/** A business system on 127.0.0.1 that records every callback. */
export interface Receiver {
  /** A callback URL on this receiver. */
  url(path: string): string;
  readonly requests: ReceivedRequest[];
  /** Requests to one path. */
  requestsTo(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

/** Picks the answer to the n-th request (from 0) to a path. */
export type Answer = (path: string, n: number) => number;

/** Starts a receiver; it answers 200 unless told otherwise. */
export async function startReceiver(answer: Answer = () => 200) {
  const requests: ReceivedRequest[] = [];
  const counts = new Map<string, number>();
  const server = createServer(async (request: IncomingMessage, response) => {
    const body = (await buffer(request)).toString('utf8');
    const path = request.url ?? '/';
    const n = counts.get(path) ?? 0;
    counts.set(path, n + 1);
    const status = answer(path, n);
    const header = request.headers[SIGNATURE_HEADER.toLowerCase()];
    requests.push({
      path,
      at: Date.now(),
      body,
      signature: typeof header === 'string' ? header : undefined,
      answeredWith: status,
      statuses: JSON.parse(body).statuses,
    });
    response.writeHead(status).end(status < 300 ? 'ok' : 'not now');
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** The emulators with the pipeline's tables and queues. */
export interface CallbackFixture {
  readonly emulators: Emulators;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  readonly outbox: StatusOutbox;
  readonly tables: { statusOutbox: string; callbackTargets: string };
  stop(): Promise<void>;
}

export async function startCallbackFixture(): Promise<CallbackFixture> {
  const emulators = await startEmulators({ messaging: 0, dynamodb: 0 });
  const clients = createAwsClients(emulators.clientOptions);
  const resources = await createLocalResources(
    clients,
    builtInRegistry,
    'cbtest',
  );
  const outbox = createStatusOutbox({
    dynamodb: clients.dynamodb,
    tableName: resources.names.statusOutboxTable,
  });
  return {
    emulators,
    clients,
    resources,
    outbox,
    tables: {
      statusOutbox: resources.names.statusOutboxTable,
      callbackTargets: resources.names.callbackTargetsTable,
    },
    async stop() {
      destroyAwsClients(clients);
      await emulators.stop();
    },
  };
}

/**
 * The local dispatcher and scheduler over the fixture's tables, signing
 * with TEST_KEY; `clients` replaces the fixture's own.
 */
export function fixtureCallbacks(
  fixture: CallbackFixture,
  timing: DeliveryTiming = FAST_TIMING,
  clients: AwsClients = fixture.clients,
): LocalCallbacks {
  return startLocalCallbacks({
    clients,
    tables: fixture.tables,
    deadLetterQueueUrl: fixture.resources.callbacksDeadLetterQueueUrl,
    signingKey: TEST_KEY,
    timing,
  });
}

/**
 * Writes `count` final statuses for a target through the outbox, as the
 * consumer does, and after each calls `notify` (if given), `parallel` at a
 * time. Resolves to the task ids.
 */
export async function finishTasks(
  outbox: StatusOutbox,
  target: string,
  count: number,
  notify?: (target: string) => Promise<unknown>,
  parallel = 20,
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < ids.length; i += parallel) {
    await Promise.all(
      ids.slice(i, i + parallel).map(async (taskId, n) => {
        await outbox.finish(
          {
            taskId,
            taskType: 'order.notification',
            businessId: `order-${i + n}`,
            callbackUrl: target,
          },
          (i + n) % 10 === 0
            ? { status: 'failed', attempts: 6, error: 'payment service down' }
            : { status: 'completed', attempts: 1 },
        );
        await notify?.(target);
      }),
    );
  }
  return ids;
}

/** Task ids in the requests the receiver answered with a 2xx. */
export function deliveredIds(requests: readonly ReceivedRequest[]): string[] {
  return requests
    .filter((r) => r.answeredWith >= 200 && r.answeredWith < 300)
    .flatMap((r) => r.statuses.map((s) => s.taskId));
}

/** Waits until `done` holds, polling; throws after `timeoutMs`. */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A callback dead-letter message, read out. */
export interface CallbackDeadLettered {
  readonly status: StatusEntry;
  readonly reason?: string;
  readonly target?: string;
  readonly lastError?: string;
}

/** Receives everything in the callback dead-letter queue. */
export async function readCallbackDeadLetters(
  clients: AwsClients,
  queueUrl: string,
): Promise<CallbackDeadLettered[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) break;
    messages.push(...Messages);
  }
  const names = CALLBACK_DEAD_LETTER_ATTRIBUTES;
  return messages.map((message) => {
    const attr = (name: string) =>
      message.MessageAttributes?.[name]?.StringValue;
    return {
      status: JSON.parse(message.Body ?? '{}'),
      reason: attr(names.reason),
      target: attr(names.target),
      lastError: attr(names.lastError),
    };
  });
}
