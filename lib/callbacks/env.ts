/**
 * The environment the stack gives the callback dispatcher function, and
 * the consumer functions that schedule deliveries, read into options.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws-clients.ts';
import { parseDuration } from './config.ts';
import {
  type CallbackLogger,
  createDispatcher,
  type Dispatcher,
} from './dispatcher.ts';
import { CallbackError } from './errors.ts';
import { type CallbackNotifier, createCallbackNotifier } from './notify.ts';
import { createAwsScheduler, type DeliveryScheduler } from './scheduler.ts';
import { secretsManagerSource } from './secrets.ts';

/** Names of the variables. */
export const CALLBACK_ENV = {
  statusOutboxTable: 'TASKLANE_STATUS_OUTBOX_TABLE',
  targetsTable: 'TASKLANE_CALLBACK_TARGETS_TABLE',
  /** Least time between two requests to a target, e.g. `60s`. */
  interval: 'TASKLANE_CALLBACK_INTERVAL',
  /** Age after which undeliverable statuses are dead-lettered, e.g. `24h`. */
  maxAge: 'TASKLANE_CALLBACK_MAX_AGE',
  deadLetterQueueUrl: 'TASKLANE_CALLBACK_DLQ_URL',
  scheduleGroup: 'TASKLANE_SCHEDULE_GROUP',
  /** The dispatcher's ARN; in the dispatcher itself, its own by default. */
  dispatcherArn: 'TASKLANE_CALLBACK_DISPATCHER_ARN',
  schedulerRoleArn: 'TASKLANE_SCHEDULER_ROLE_ARN',
  /** The customer managed key schedules are encrypted with. */
  scheduleKeyArn: 'TASKLANE_SCHEDULE_KEY_ARN',
  secretArn: 'TASKLANE_CALLBACK_SECRET_ARN',
  /** Comma-separated hosts; `*.example.com` for subdomains. */
  allowedHosts: 'TASKLANE_CALLBACK_ALLOWED_HOSTS',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) {
    throw new CallbackError(
      'MISSING_ENVIRONMENT',
      `environment variable ${name} is not set`,
    );
  }
  return value;
}

function duration(env: Env, name: string): number | undefined {
  const value = env[name];
  return value ? parseDuration(value, name) : undefined;
}

function schedulerFromEnv(
  env: Env,
  options: { dispatcherArn?: string; lambda?: LambdaClient } = {},
): DeliveryScheduler {
  return createAwsScheduler({
    client: new SchedulerClient({}),
    groupName: required(env, CALLBACK_ENV.scheduleGroup),
    dispatcherArn:
      env[CALLBACK_ENV.dispatcherArn] ||
      options.dispatcherArn ||
      required(env, CALLBACK_ENV.dispatcherArn),
    roleArn: required(env, CALLBACK_ENV.schedulerRoleArn),
    kmsKeyArn: env[CALLBACK_ENV.scheduleKeyArn] || undefined,
    lambda: options.lambda,
  });
}

/**
 * The consumer's notifier, from its environment. It invokes the
 * dispatcher at once for a delivery that is due (an idle target), so
 * the consumer needs lambda:InvokeFunction on it.
 */
export function notifierFromEnv(
  env: Env,
  clients: Pick<AwsClients, 'dynamodb'>,
  lambda: LambdaClient = new LambdaClient({}),
): CallbackNotifier {
  return createCallbackNotifier({
    dynamodb: clients.dynamodb,
    tableName: required(env, CALLBACK_ENV.targetsTable),
    scheduler: schedulerFromEnv(env, { lambda }),
    intervalMs: duration(env, CALLBACK_ENV.interval) ?? 60_000,
  });
}

/**
 * The dispatcher of the Lambda function, from its environment.
 * `ownArn` (the invoked function's ARN) names the function to schedule
 * when TASKLANE_CALLBACK_DISPATCHER_ARN is unset. It only schedules,
 * never invokes itself: a grant to invoke itself would make the
 * function's policy depend on the function.
 */
export function dispatcherFromEnv(
  env: Env,
  clients: Pick<AwsClients, 'dynamodb' | 'sqs'>,
  ownArn: string,
  logger?: CallbackLogger,
): Dispatcher {
  const hosts = (env[CALLBACK_ENV.allowedHosts] ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  return createDispatcher({
    dynamodb: clients.dynamodb,
    sqs: clients.sqs,
    tables: {
      statusOutbox: required(env, CALLBACK_ENV.statusOutboxTable),
      callbackTargets: required(env, CALLBACK_ENV.targetsTable),
    },
    deadLetterQueueUrl: required(env, CALLBACK_ENV.deadLetterQueueUrl),
    scheduler: schedulerFromEnv(env, { dispatcherArn: ownArn }),
    secrets: secretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: required(env, CALLBACK_ENV.secretArn),
    }),
    policy: { allowLocal: false, allowedHosts: hosts },
    timing: {
      intervalMs: duration(env, CALLBACK_ENV.interval),
      maxAgeMs: duration(env, CALLBACK_ENV.maxAge),
    },
    logger,
  });
}
