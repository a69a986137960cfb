/**
 * A stand-in for SSM Parameter Store on a local port, for code that builds
 * its own SSM client from the environment (`AWS_ENDPOINT_URL_SSM`). It
 * answers GetParameter from a map, in the AWS JSON 1.1 protocol, and
 * records every request.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake received: the operation and its input. */
export interface SsmRequest {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** A running fake; `parameters` may change between requests. */
export interface FakeSsm {
  readonly url: string;
  readonly parameters: Map<string, string>;
  readonly requests: SsmRequest[];
  stop(): Promise<void>;
}

export async function startFakeSsm(): Promise<FakeSsm> {
  const parameters = new Map<string, string>();
  const requests: SsmRequest[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonSSM\./, '');
    const input = JSON.parse(body || '{}') as Record<string, unknown>;
    requests.push({ operation, input });
    if (operation !== 'GetParameter') {
      answer(response, 400, { __type: 'InvalidAction', message: operation });
      return;
    }
    const name = String(input.Name);
    const value = parameters.get(name);
    if (value === undefined) {
      answer(response, 400, { __type: 'ParameterNotFound', message: name });
      return;
    }
    answer(response, 200, {
      Parameter: { Name: name, Type: 'String', Value: value, Version: 1 },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    parameters,
    requests,
    stop: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function answer(
  response: ServerResponse,
  status: number,
  body: { __type?: string } & Record<string, unknown>,
) {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    ...(body.__type && { 'x-amzn-errortype': body.__type }),
  });
  response.end(JSON.stringify(body));
}
