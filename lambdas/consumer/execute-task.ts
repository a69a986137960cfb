import {
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { BusinessIdNotFoundError } from '../../lib/errors.ts';
import { createStatusOutbox } from '../../lib/outbox.ts';
import { maxAttempts, type RetryPolicy } from '../../lib/retry.ts';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_TTL } from '../../lib/tables.ts';
import type { TaskModule, TaskServices } from '../../lib/task-module.ts';
import { AttemptFailedError, type TaskExecutor } from './process-record.ts';
import type { ValidTask } from './read-task.ts';
import { runWithTimeout } from './run-with-timeout.ts';

/**
 * Time kept back from the function's remaining time when bounding a task,
 * for recording the failure and scheduling its retry (a few DynamoDB and
 * SQS calls, well under a second each).
 */
export const RESERVED_MS = 3_000;

/** How long a completed task is remembered against redelivery: 24 h. */
const IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600;

export interface ExecutorOptions {
  readonly clients: AwsClients;
  readonly tables: {
    readonly idempotency: string;
    readonly statusOutbox: string;
  };
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
}

/**
 * Builds the function that runs a valid task once: business-id check,
 * execution count, then the handler within its time budget. Powertools
 * idempotency, keyed by the envelope id, makes a redelivered task that
 * already succeeded return its stored result instead of running again.
 */
export function createTaskExecutor(options: ExecutorOptions) {
  const { clients, logger } = options;
  const services: TaskServices = {
    clients,
    env: options.env ?? process.env,
    logger,
  };
  const outbox = createStatusOutbox({
    dynamodb: clients.dynamodb,
    tableName: options.tables.statusOutbox,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
  });

  const run = async (envelope: Envelope, task: ValidTask, context: Context) => {
    const { module, payload } = task;
    const missing = await module.findMissingBusinessId(
      envelope,
      payload,
      services,
    );
    if (missing) {
      throw new BusinessIdNotFoundError(
        envelope.taskType,
        envelope.businessId,
        missing,
      );
    }
    const attempt = await outbox.startAttempt(
      task.identity,
      maxAttempts(options.retry),
    );
    try {
      await runWithTimeout(timeBudget(envelope, module, context), (signal) =>
        module.handle({ ...services, envelope, payload, attempt, signal }),
      );
    } catch (error) {
      throw new AttemptFailedError(attempt, error);
    }
    return { attempt };
  };

  const execute: TaskExecutor = makeIdempotent(run, {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: options.tables.idempotency,
      keyAttr: IDEMPOTENCY_KEY,
      expiryAttr: IDEMPOTENCY_TTL,
      awsSdkV3Client: clients.dynamodbClient,
    }),
    config,
  });
  return { execute, outbox, config };
}

/** The envelope's budget, or the task type's, capped by the time left. */
function timeBudget(envelope: Envelope, module: TaskModule, context: Context) {
  const wanted = envelope.timeoutMs ?? module.defaults.timeoutMs;
  const left = context.getRemainingTimeInMillis() - RESERVED_MS;
  return Math.max(1, Math.min(wanted, left));
}

/**
 * Middleware that hands the invocation's context to the idempotency
 * config, so an execution cut short by a function timeout stops blocking
 * its retries once that invocation's time is up.
 */
export function idempotencyContext(config: IdempotencyConfig): MiddlewareObj {
  return {
    before: (request) => {
      config.registerLambdaContext(request.context);
    },
  };
}
