import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import type { AwsClientOptions } from '../aws-clients.ts';

/** Ports the emulators listen on; 0 picks a free one. */
export interface EmulatorPorts {
  /** SQS, SNS and S3 on one port. @default 4566 */
  readonly messaging?: number;
  /** DynamoDB. @default 4567 */
  readonly dynamodb?: number;
}

/** fauxqs and dynalite, running in this process. */
export interface Emulators {
  readonly messagingEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly clientOptions: AwsClientOptions;
  stop(): Promise<void>;
}

/** Starts fauxqs and dynalite on loopback, in memory. */
export async function startEmulators(
  ports: EmulatorPorts = {},
): Promise<Emulators> {
  const fauxqs = await startFauxqs({
    port: ports.messaging ?? 4566,
    logger: false,
  });
  const dynamo = await listen(
    // Tables are ACTIVE at once: nothing here waits on real provisioning.
    dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
    ports.dynamodb ?? 4567,
  );
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  const messagingEndpoint = `http://127.0.0.1:${fauxqs.port}`;
  const dynamodbEndpoint = `http://127.0.0.1:${dynamoPort}`;

  return {
    messagingEndpoint,
    dynamodbEndpoint,
    clientOptions: { messagingEndpoint, dynamodbEndpoint, region: 'us-east-1' },
    async stop() {
      await Promise.all([fauxqs.stop(), close(dynamo)]);
    },
  };
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
