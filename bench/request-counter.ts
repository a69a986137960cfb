import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests a client has sent since the counter was attached. */
export interface RequestCounter {
  readonly count: number;
}

/**
 * Counts every request of a DynamoDB client, SDK retries included, with a
 * middleware at the finalize step, which runs once per HTTP attempt. A
 * document client built on this client shares its middleware stack.
 */
export function countRequests(client: DynamoDBClient): RequestCounter {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next) => (args) => {
      counter.count += 1;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'benchRequestCounter' },
  );
  return counter;
}
