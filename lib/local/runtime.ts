import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { createConsumer } from '../../lambdas/consumer/consumer.ts';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../aws-clients.ts';
import {
  type LocalCallbacks,
  startLocalCallbacks,
} from '../callbacks/local.ts';
import { localSigningKey, type SigningKey } from '../callbacks/secrets.ts';
import { createStatusOutbox, type StatusOutbox } from '../outbox.ts';
import { assertPrefix, DEFAULT_PREFIX } from '../queue-names.ts';
import { functionTimeoutSeconds } from '../queue-settings.ts';
import type { TaskRegistry } from '../registry.ts';
import type { RetryPolicy } from '../retry.ts';
import { type EmulatorPorts, startEmulators } from './emulators.ts';
import { LocalMetrics } from './local-metrics.ts';

/** What the callback metrics are kept under (their `TaskType`, unused). */
const CALLBACKS_METRICS_KEY = 'callbacks';

import { type Poller, startPoller } from './poller.ts';
import { createLocalResources, type LocalResources } from './resources.ts';

/** How the local pipeline runs. */
export interface LocalPipelineOptions {
  readonly registry: TaskRegistry;
  /** @default 'tasklane' */
  readonly prefix?: string;
  /** @default 4566 for SQS, SNS and S3; 4567 for DynamoDB */
  readonly ports?: EmulatorPorts;
  /** @default the consumer's: 5 retries, 1-2 s doubling to 16-32 s */
  readonly retry?: RetryPolicy;
  /** Level of the consumers' JSON logs. @default 'WARN' */
  readonly logLevel?: LogLevel;
  /** Least time between two callbacks to one target. @default 60 s */
  readonly callbackIntervalMs?: number;
  /**
   * Key callbacks are signed with.
   * @default - from TASKLANE_CALLBACK_SECRET, generated and printed if unset
   */
  readonly signingKey?: SigningKey;
  /** Callback target per task type, for tasks that name none. @default none */
  readonly callbackUrls?: Readonly<Record<string, string>>;
}

/** A running local pipeline. */
export interface LocalPipeline {
  /** The SQS-compatible endpoint (also SNS and S3). */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly prefix: string;
  readonly registry: TaskRegistry;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  readonly outbox: StatusOutbox;
  /** The consumers' metrics, totalled per task type. */
  readonly metrics: ReadonlyMap<string, LocalMetrics>;
  /** The callback dispatcher's metrics, totalled. */
  readonly callbackMetrics: LocalMetrics;
  /** Callback delivery: the dispatcher and its in-process scheduler. */
  readonly callbacks: LocalCallbacks;
  /**
   * Sets how many batches of a task type's normal queue run at once, as
   * the maximum concurrency of its event source mapping does on AWS.
   */
  setMaxConcurrency(taskType: string, maxConcurrency: number): void;
  /** Stops polling, lets every batch in flight finish, then stops emulators. */
  stop(): Promise<void>;
}

/**
 * Runs the whole pipeline in this process: fauxqs and dynalite, every
 * resource the stack would create, and per task queue a poller that invokes
 * the same consumer handler Lambda runs.
 *
 * @example
 * const pipeline = await startLocalPipeline({ registry: builtInRegistry });
 * // send tasks to pipeline.endpoint with the AWS SDK or CLI, then:
 * await pipeline.stop();
 */
export async function startLocalPipeline(
  options: LocalPipelineOptions,
): Promise<LocalPipeline> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  assertPrefix(prefix);
  const emulators = await startEmulators(options.ports);
  const clients = createAwsClients(emulators.clientOptions);
  const resources = await createLocalResources(
    clients,
    options.registry,
    prefix,
  );
  const metrics = new Map(
    options.registry.taskTypes.map((type) => [type, new LocalMetrics(type)]),
  );
  const metricsOf = (taskType: string) => metrics.get(taskType) as LocalMetrics;
  const callbackMetrics = new LocalMetrics(CALLBACKS_METRICS_KEY);
  const callbacks = startCallbacks(
    options,
    clients,
    resources,
    callbackMetrics,
  );
  const pollers = startConsumers(options, clients, resources, {
    metricsOf,
    callbacks,
  });

  return {
    endpoint: emulators.messagingEndpoint,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    prefix,
    registry: options.registry,
    clients,
    resources,
    metrics,
    callbackMetrics,
    callbacks,
    outbox: createStatusOutbox({
      dynamodb: clients.dynamodb,
      tableName: resources.names.statusOutboxTable,
    }),
    setMaxConcurrency(taskType, maxConcurrency) {
      const index = resources.queues.findIndex(
        (q) => q.taskType === taskType && q.priority === 'normal',
      );
      const poller = pollers[index];
      if (!poller) throw new Error(`no normal queue for task type ${taskType}`);
      poller.setMaxConcurrency(maxConcurrency);
    },
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      await callbacks.stop();
      destroyAwsClients(clients);
      await emulators.stop();
    },
  };
}

function startConsumers(
  options: LocalPipelineOptions,
  clients: AwsClients,
  resources: LocalResources,
  shared: {
    metricsOf: (taskType: string) => LocalMetrics;
    callbacks: LocalCallbacks;
  },
): Poller[] {
  return resources.queues.map((queue) => {
    // A logger per function: each carries its own invocation's context.
    const logger = new Logger({
      serviceName: 'tasklane',
      logLevel: options.logLevel ?? 'WARN',
    });
    const module = options.registry.get(queue.taskType);
    const functionName = queue.name.replace(/-(high|normal)$/, '');
    const handler = createConsumer({
      taskType: queue.taskType,
      registry: options.registry,
      clients,
      tables: {
        idempotency: resources.names.idempotencyTable,
        statusOutbox: resources.names.statusOutboxTable,
      },
      env: resources.env,
      retry: options.retry,
      allowHttpCallbacks: true,
      logger,
      metrics: shared.metricsOf(queue.taskType),
      callbacks: shared.callbacks,
      callbackUrl: options.callbackUrls?.[queue.taskType],
    });
    return startPoller({
      sqs: clients.sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler,
      functionName,
      functionTimeoutMs: functionTimeoutSeconds(module.defaults) * 1000,
      batchSize: module.defaults.batchSize,
      maxConcurrency: module.defaults.maxConcurrency,
      logger,
    });
  });
}

function startCallbacks(
  options: LocalPipelineOptions,
  clients: AwsClients,
  resources: LocalResources,
  metrics: LocalMetrics,
): LocalCallbacks {
  const { names } = resources;
  return startLocalCallbacks({
    clients,
    tables: {
      statusOutbox: names.statusOutboxTable,
      callbackTargets: names.callbackTargetsTable,
    },
    deadLetterQueueUrl: resources.callbacksDeadLetterQueueUrl,
    signingKey: options.signingKey ?? localSigningKey(),
    timing: { intervalMs: options.callbackIntervalMs },
    metrics,
    logger: new Logger({
      serviceName: 'tasklane-callbacks',
      logLevel: options.logLevel ?? 'WARN',
    }),
  });
}
