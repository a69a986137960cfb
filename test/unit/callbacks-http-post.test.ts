import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { postJson } from '../../lib/callbacks/http-post.ts';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

type Handler = Parameters<typeof createServer>[1];

async function serve(handler: Handler): Promise<number> {
  server = createServer(handler);
  await new Promise<void>((resolve) =>
    server?.listen(0, '127.0.0.1', () => resolve()),
  );
  return (server.address() as AddressInfo).port;
}

/** A target whose host does not resolve: only the pinned address works. */
function pinned(port: number, path = '/hook') {
  return {
    url: new URL(`http://callbacks.invalid:${port}${path}`),
    address: '127.0.0.1',
    family: 4 as const,
  };
}

describe('callback POST', () => {
  it('connects to the vetted address, never resolving the host again', async () => {
    // Prepare
    let seen: { host?: string; body?: string; type?: string } = {};
    const port = await serve(async (request, response) => {
      seen = {
        host: request.headers.host,
        type: request.headers['content-type'],
        body: (await buffer(request)).toString(),
      };
      response.writeHead(204).end();
    });

    // Act
    const answer = await postJson({
      target: pinned(port),
      body: '{"statuses":[]}',
      headers: { 'X-Tasklane-Signature': 't=1,kid=k,v1=00' },
      timeoutMs: 2_000,
    });

    // Assess
    expect(answer).toEqual({ status: 204, excerpt: '' });
    expect(seen).toEqual({
      host: `callbacks.invalid:${port}`,
      type: 'application/json',
      body: '{"statuses":[]}',
    });
  });

  it('does not follow a redirect', async () => {
    // Prepare
    const paths: string[] = [];
    const port = await serve((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(302, { location: '/elsewhere' }).end('moved');
    });

    // Act
    const answer = await postJson({
      target: pinned(port),
      body: '{}',
      headers: {},
      timeoutMs: 2_000,
    });

    // Assess
    expect(answer).toEqual({ status: 302, excerpt: 'moved' });
    expect(paths).toEqual(['/hook']);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    // Prepare: a receiver that never answers.
    const port = await serve(() => {});

    // Act
    const error = await postJson({
      target: pinned(port),
      body: '{}',
      headers: {},
      timeoutMs: 200,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'DELIVERY_TIMEOUT' });
  });

  it('reports a refused connection as a network error', async () => {
    // Prepare: a port with nothing listening.
    const port = await serve(() => {});
    server?.close();

    // Act
    const error = await postJson({
      target: pinned(port),
      body: '{}',
      headers: {},
      timeoutMs: 2_000,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'DELIVERY_NETWORK_ERROR' });
  });
});
