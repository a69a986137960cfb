/**
 * Lambda entry of the stock Powertools recipe, bundled like the consumer
 * entry (lambdas/consumer/handler.ts) for the bundle benchmark: the same
 * task modules and AWS clients, without tasklane's consumer around them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { builtInRegistry } from '../lambdas/tasks/index.ts';
import { createAwsClients } from '../lib/aws-clients.ts';
import { createStockConsumer } from './stock-recipe.ts';

const clients = createAwsClients();

export const handler = createStockConsumer({
  registry: builtInRegistry,
  services: { clients, env: process.env, logger: new Logger() },
  dynamodbClient: clients.dynamodbClient,
  tableName: process.env.TASKLANE_IDEMPOTENCY_TABLE ?? '',
});
