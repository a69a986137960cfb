import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningKey } from '../callbacks/secrets.ts';
import { SIGNATURE_HEADER, verifyCallback } from '../callbacks/signature.ts';

/** One status entry of a callback request. */
export interface CallbackStatus {
  readonly taskId: string;
  readonly taskType?: string;
  readonly businessId?: string;
  readonly status: string;
  readonly attempts: number;
  readonly error?: string;
  readonly finishedAt: string;
}

/** The business system of the demo: it verifies and prints each callback. */
export interface DemoReceiver {
  readonly url: string;
  readonly statuses: CallbackStatus[];
  stop(): Promise<void>;
}

/**
 * Starts an HTTP receiver on loopback that checks each callback's signature
 * with `verifyCallback`, as a business system would, and prints what came.
 */
export async function startDemoReceiver(
  signingKey: SigningKey,
  print: (line: string) => void,
): Promise<DemoReceiver> {
  const statuses: CallbackStatus[] = [];
  let requests = 0;
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const verdict = verifyCallback({
      body,
      header: request.headers[SIGNATURE_HEADER.toLowerCase()] as string,
      secrets: { [signingKey.keyId]: signingKey.secret },
    });
    if (!verdict.valid) {
      print(`callback refused: ${verdict.reason}`);
      response.writeHead(401).end();
      return;
    }
    const received = (JSON.parse(body) as { statuses: CallbackStatus[] })
      .statuses;
    statuses.push(...received);
    requests += 1;
    print(describe(requests, received));
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tasklane-callbacks`,
    statuses,
    stop: () => close(server),
  };
}

function describe(request: number, received: CallbackStatus[]): string {
  const entries = received.map(
    (s) => `${s.taskType} ${s.businessId} ${s.status}`,
  );
  return (
    `callback ${request}: ${received.length} status(es), signature ` +
    `verified: ${entries.join('; ')}`
  );
}

async function readBody(request: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
