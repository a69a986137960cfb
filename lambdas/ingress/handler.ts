/**
 * Lambda entry of the HTTPS ingress, behind API Gateway's `POST /tasks`
 * (Lambda proxy integration). The stack names the prefix and the queue
 * capacity in the environment. Like the consumer's entry, it knows the
 * built-in task types; a deployment with its own task types uses an entry
 * like this one that passes its own registry to `createProducer`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createProducer } from '../../lib/producer.ts';
import { builtInRegistry } from '../tasks/index.ts';
import { acceptTask } from './accept-task.ts';
import { INGRESS_ENV } from './env.ts';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const logger = new Logger({ serviceName: 'tasklane' });

// One producer per execution environment: it caches queue URLs and depths.
const producer = createProducer({
  sqs: new SQSClient({}),
  registry: builtInRegistry,
  prefix: requireEnv(INGRESS_ENV.prefix),
  capacity: Number(requireEnv(INGRESS_ENV.capacity)),
  logger,
});

function bodyOf(event: APIGatewayProxyEvent): string | null {
  if (event.body === null || !event.isBase64Encoded) return event.body;
  return Buffer.from(event.body, 'base64').toString('utf8');
}

const acceptRequest = (
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> =>
  acceptTask(bodyOf(event), { producer, logger });

export const handler = middy(acceptRequest).use(injectLambdaContext(logger));
