/**
 * The soak's consumer process: the Lambda consumer handler of `soak.effect`
 * behind one poller per queue, attached to the emulators that run in the
 * parent process. The parent kills it with SIGKILL mid-batch, as a crashed
 * host or a Lambda sandbox torn down mid-invocation would be.
 *
 * Callback deliveries are scheduled in the parent, which runs the
 * dispatcher and its scheduler as EventBridge Scheduler runs on AWS apart
 * from the functions: the consumer marks the delivery pending in DynamoDB,
 * then asks the parent over IPC for the schedule.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createConsumer } from '../lambdas/consumer/consumer.ts';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../lib/aws-clients.ts';
import {
  type CallbackNotifier,
  createCallbackNotifier,
} from '../lib/callbacks/notify.ts';
import type { DeliveryScheduler } from '../lib/callbacks/scheduler.ts';
import { LocalMetrics } from '../lib/local/local-metrics.ts';
import {
  type Poller,
  type SqsBatchHandler,
  startPoller,
} from '../lib/local/poller.ts';
import { createRegistry } from '../lib/registry.ts';
import {
  addStats,
  type ChildMessage,
  CONSUMER_CONFIG_ENV,
  type ConsumerConfig,
  type ConsumerQueue,
  NO_STATS,
} from './ipc.ts';
import { SOAK_TASK_TYPE, soakTask } from './task.ts';

/** How often the process reports its counts to the parent. */
const STATS_EVERY_MS = 100;

/**
 * Runs the consumer process until the parent sends `stop` (then it lets
 * the batches in flight finish and exits) or kills it.
 */
export function runConsumerProcess(config: ConsumerConfig): void {
  const clients = createAwsClients({
    messagingEndpoint: config.messagingEndpoint,
    dynamodbEndpoint: config.dynamodbEndpoint,
  });
  const notifier = createCallbackNotifier({
    dynamodb: clients.dynamodb,
    tableName: config.tables.callbackTargets,
    scheduler: parentScheduler(),
    intervalMs: config.callbackIntervalMs,
  });
  const timing = { longestBatchMs: 0, overruns: 0 };
  const pollers = config.queues.map((queue) =>
    startQueuePoller(config, { clients, notifier, timing }, queue),
  );
  const stats = () => statsMessage(config.generation, pollers, timing);
  const report = () => send(stats()).catch(() => undefined);
  const timer = setInterval(report, STATS_EVERY_MS);
  // Without its parent the process has nobody to report to.
  process.on('disconnect', () => process.exit(0));

  process.on('message', async (message: { kind?: string }) => {
    if (message.kind !== 'stop') return;
    clearInterval(timer);
    await Promise.all(pollers.map((poller) => poller.stop()));
    destroyAwsClients(clients);
    await send(stats());
    process.disconnect();
  });
  void send({ kind: 'ready', generation: config.generation });
}

/** Reads the configuration the parent put in the environment. */
export function readConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const text = env[CONSUMER_CONFIG_ENV];
  if (!text) {
    throw new Error(
      `${CONSUMER_CONFIG_ENV} is not set: the soak's consumer process is ` +
        'started by soak/run.ts, not by hand',
    );
  }
  return JSON.parse(text) as ConsumerConfig;
}

/** Durations of the handler's invocations, over every poller. */
interface BatchTiming {
  longestBatchMs: number;
  overruns: number;
}

/** What the pollers of one process share. */
interface Shared {
  readonly clients: AwsClients;
  readonly notifier: CallbackNotifier;
  readonly timing: BatchTiming;
}

/** One queue's poller invoking its own consumer handler, as Lambda would. */
function startQueuePoller(
  config: ConsumerConfig,
  { clients, notifier, timing }: Shared,
  queue: ConsumerQueue,
): Poller {
  const logger = new Logger({
    serviceName: 'tasklane-soak',
    logLevel: config.logLevel,
  });
  const module = soakTask({
    effectsTable: config.tables.effects,
    generation: config.generation,
  });
  const handler = createConsumer({
    taskType: SOAK_TASK_TYPE,
    registry: createRegistry([module]),
    clients,
    tables: config.tables,
    env: {},
    retry: config.retry,
    allowHttpCallbacks: true,
    callbacks: notifier,
    logger,
    metrics: new LocalMetrics(SOAK_TASK_TYPE),
  });
  return startPoller({
    sqs: clients.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handler: timed(handler, config.functionTimeoutMs, timing),
    functionName: queue.name,
    functionTimeoutMs: config.functionTimeoutMs,
    batchSize: module.defaults.batchSize,
    maxConcurrency: config.concurrency,
    logger,
  });
}

/** Schedules deliveries through the parent, which runs the scheduler. */
function parentScheduler(): DeliveryScheduler {
  return {
    schedule: (target, at) =>
      send({ kind: 'schedule', target, at: at.getTime() }),
  };
}

/**
 * The handler, timed: the poller stops waiting at the function timeout
 * but cannot stop the handler, so a batch that runs over may still
 * perform effects after its records were given up.
 */
function timed(
  handler: SqsBatchHandler,
  timeoutMs: number,
  timing: BatchTiming,
): SqsBatchHandler {
  return async (event, context) => {
    const startedAt = Date.now();
    try {
      return await handler(event, context);
    } finally {
      const tookMs = Date.now() - startedAt;
      timing.longestBatchMs = Math.max(timing.longestBatchMs, tookMs);
      if (tookMs > timeoutMs) timing.overruns += 1;
    }
  };
}

function statsMessage(
  generation: number,
  pollers: readonly Poller[],
  timing: BatchTiming,
): ChildMessage {
  const counts = pollers.map((poller) => ({ ...NO_STATS, ...poller.stats() }));
  const stats = { ...counts.reduce(addStats, NO_STATS), ...timing };
  return { kind: 'stats', generation, stats };
}

/** Sends a message to the parent; resolves once it is on the channel. */
function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('the consumer process has no IPC channel'));
      return;
    }
    process.send(message, undefined, {}, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}
