import {
  BatchProcessor,
  EventType,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { CallbackNotifier } from '../../lib/callbacks/notify.ts';
import { envelopeSchema } from '../../lib/envelope.ts';

import { createQueueUrlResolver } from '../../lib/queue-urls.ts';
import type { TaskRegistry } from '../../lib/registry.ts';
import {
  assertRetryPolicy,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from '../../lib/retry.ts';
import { createTaskExecutor, idempotencyContext } from './execute-task.ts';
import { processRecord, type RecordDeps } from './process-record.ts';

/** What a consumer function is made of. */
export interface ConsumerOptions {
  /** The task type this function serves; its queues carry no other. */
  readonly taskType: string;
  readonly registry: TaskRegistry;
  readonly clients: AwsClients;
  readonly tables: {
    readonly idempotency: string;
    readonly statusOutbox: string;
  };
  /** Resource names for the task modules. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default DEFAULT_RETRY_POLICY: 5 retries, 1-2 s doubling to 16-32 s */
  readonly retry?: RetryPolicy;
  /** Accept http callback URLs; local mode only. @default false */
  readonly allowHttpCallbacks?: boolean;
  /** Schedules callback deliveries. @default - statuses wait in the outbox */
  readonly callbacks?: CallbackNotifier;
  /**
   * Callback target of this task type's tasks that name none.
   * @default - only tasks that name a callbackUrl get callbacks
   */
  readonly callbackUrl?: string;
  /** @default a Powertools Logger for service `tasklane` */
  readonly logger?: Logger;
  /** @default Powertools Metrics in namespace `Tasklane`, dimension TaskType */
  readonly metrics?: Metrics;
}

/**
 * Builds the Lambda handler that consumes one task type's queues: each
 * record is validated, run once (idempotently, within its time budget),
 * retried with growing delays or dead-lettered, and given its final status.
 * The response is a partial batch response; one task never fails another.
 *
 * @example
 * export const handler = createConsumer({
 *   taskType: 'order.notification',
 *   registry: builtInRegistry,
 *   clients: createAwsClients(),
 *   tables: { idempotency: 'tasklane-idempotency',
 *             statusOutbox: 'tasklane-status-outbox' },
 * });
 */
export function createConsumer(options: ConsumerOptions) {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  assertRetryPolicy(retry);
  options.registry.get(options.taskType);
  const logger = options.logger ?? new Logger({ serviceName: 'tasklane' });
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: 'Tasklane',
      serviceName: 'tasklane',
      defaultDimensions: { TaskType: options.taskType },
    });
  const executor = createTaskExecutor({ ...options, retry, logger });
  const deps: RecordDeps = {
    taskType: options.taskType,
    registry: options.registry,
    schema: envelopeSchema({ allowHttpCallbacks: options.allowHttpCallbacks }),
    clients: options.clients,
    outbox: executor.outbox,
    retry,
    queueUrl: createQueueUrlResolver(options.clients.sqs),
    execute: executor.execute,
    callbacks: options.callbacks,
    callbackUrl: options.callbackUrl,
    logger,
    metrics,
  };

  const consumeBatch = (event: SQSEvent, context: Context) =>
    processPartialResponse(
      event,
      (record: SQSRecord) => processRecord(record, deps, context),
      // A processor keeps the state of one batch: one per invocation, since
      // the local runtime invokes a handler for several batches at once.
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    ) as Promise<SQSBatchResponse>;

  return middy(consumeBatch)
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(idempotencyContext(executor.config));
}
