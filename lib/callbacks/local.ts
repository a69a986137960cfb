import type { AwsClients } from '../aws-clients.ts';
import type { DeliveryTiming } from './config.ts';
import {
  type CallbackLogger,
  createDispatcher,
  type Dispatcher,
} from './dispatcher.ts';
import {
  createLocalScheduler,
  type LocalScheduler,
} from './local-scheduler.ts';
import { type MetricSink, recordDispatch } from './metrics.ts';
import { type SigningKey, staticSecretSource } from './secrets.ts';
import type { HostResolver } from './target-guard.ts';

export interface LocalCallbacksOptions {
  /** The emulators' clients. */
  readonly clients: AwsClients;
  readonly tables: {
    readonly statusOutbox: string;
    readonly callbackTargets: string;
  };
  /** URL of the local callback dead-letter queue. */
  readonly deadLetterQueueUrl: string;
  /** @default see `localSigningKey` for TASKLANE_CALLBACK_SECRET */
  readonly signingKey: SigningKey;
  readonly timing?: DeliveryTiming;
  /** @default every host */
  readonly allowedHosts?: readonly string[];
  readonly resolve?: HostResolver;
  readonly logger?: CallbackLogger;
  /** Where each dispatch's metrics go, as on AWS. @default none */
  readonly metrics?: MetricSink;
}

/** Callback delivery running in this process. */
export interface LocalCallbacks {
  readonly dispatcher: Dispatcher;
  readonly scheduler: LocalScheduler;
  /** What the consumer calls after writing a status with a target. */
  notifyPending: Dispatcher['notifyPending'];
  /** Cancels waiting deliveries and waits for those in flight. */
  stop(): Promise<void>;
}

/**
 * The dispatcher with the in-process scheduler, for the local runtime and
 * tests. Local mode accepts http and loopback targets, since the business
 * system under test runs on the same machine.
 *
 * @example
 * const callbacks = startLocalCallbacks({ clients, tables,
 *   deadLetterQueueUrl, signingKey: localSigningKey() });
 * // after outbox.finish(...) of a task with a callback URL:
 * await callbacks.notifyPending(task.callbackUrl);
 * await callbacks.stop();
 */
export function startLocalCallbacks(
  options: LocalCallbacksOptions,
): LocalCallbacks {
  let dispatcher: Dispatcher | undefined;
  const scheduler = createLocalScheduler({
    invoke: async (target) => {
      const report = await (dispatcher as Dispatcher).dispatch(target);
      if (options.metrics) recordDispatch(options.metrics, report);
    },
    onError: (error, target) =>
      options.logger?.error('callback dispatch failed', {
        target,
        error: String(error),
      }),
  });
  dispatcher = createDispatcher({
    dynamodb: options.clients.dynamodb,
    sqs: options.clients.sqs,
    tables: options.tables,
    deadLetterQueueUrl: options.deadLetterQueueUrl,
    scheduler,
    secrets: staticSecretSource(options.signingKey),
    policy: {
      allowLocal: true,
      allowedHosts: options.allowedHosts,
      resolve: options.resolve,
    },
    timing: options.timing,
    logger: options.logger,
  });
  return {
    dispatcher,
    scheduler,
    notifyPending: dispatcher.notifyPending,
    stop: () => scheduler.stop(),
  };
}
