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
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createRateGate, ssmRateLimit } from '../../lib/ops/rate-limit.ts';
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
const prefix = requireEnv(INGRESS_ENV.prefix);

// One producer per execution environment: it caches queue URLs and depths.
const producer = createProducer({
  sqs: new SQSClient({}),
  registry: builtInRegistry,
  prefix,
  capacity: Number(requireEnv(INGRESS_ENV.capacity)),
  logger,
});

// The send-rate limit of `tasklane throttle`, from SSM, read at most every
// 10 s. An execution environment serves one request at a time and sends
// one task per request, so it is the producer the limit counts: N warm
// environments admit up to N times the rate (the stage throttle bounds the
// endpoint as a whole). A task over the limit is refused with 429 and
// Retry-After instead of paced: sleeping would hold the sender's request
// and the environment, be billed, and at 0.1 tasks/s outlast the 10-s
// timeout; the sender, told when to come back, is the one to slow down.
const rateGate = createRateGate(
  ssmRateLimit({
    // A slow SSM must not hold a task up for long: on a failed read the
    // last limit read stays in force.
    ssm: new SSMClient({
      maxAttempts: 2,
      requestHandler: { requestTimeout: 1_000 },
    }),
    prefix,
    onError: (error) =>
      logger.warn('send-rate limit not read; the last one read stays', {
        error,
      }),
  }),
);

function bodyOf(event: APIGatewayProxyEvent): string | null {
  if (event.body === null || !event.isBase64Encoded) return event.body;
  return Buffer.from(event.body, 'base64').toString('utf8');
}

const acceptRequest = (
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> =>
  acceptTask(bodyOf(event), { producer, logger, rateGate });

export const handler = middy(acceptRequest).use(injectLambdaContext(logger));
