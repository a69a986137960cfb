import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resolveTiming } from './config.ts';
import type { DeliveryScheduler } from './scheduler.ts';
import {
  createTargetStore,
  type DeliveryRequest,
  type TargetStore,
} from './targets.ts';

export interface CallbackNotifierOptions {
  readonly dynamodb: DynamoDBDocumentClient;
  /** The callback targets table. */
  readonly tableName: string;
  readonly scheduler: DeliveryScheduler;
  /** The least time between two requests to a target; as the dispatcher's. */
  readonly intervalMs: number;
  /**
   * Age after which a pending delivery that no dispatcher rescheduled is
   * taken for lost; as the dispatcher's.
   * @default the dispatcher's default, from the interval and back-off
   */
  readonly staleAfterMs?: number;
  readonly clock?: () => number;
}

/** What the consumer calls once a status for a callback target is written. */
export interface CallbackNotifier {
  /**
   * Asks for a delivery to `target`; schedules one unless one is pending
   * already. Safe to call more than once for the same status. When the
   * scheduling fails it throws, and the delivery stays pending for the
   * sweep.
   */
  notifyPending(target: string): Promise<DeliveryRequest>;
}

/**
 * The consumer's side of the callbacks: it needs the targets table and the
 * scheduler, not the secret or the dead-letter queue.
 *
 * @example
 * const notifier = createCallbackNotifier({ dynamodb, tableName,
 *   scheduler, intervalMs: 60_000 });
 * await outbox.finish(task, outcome);
 * if (task.callbackUrl) await notifier.notifyPending(task.callbackUrl);
 */
export function createCallbackNotifier(
  options: CallbackNotifierOptions,
): CallbackNotifier {
  const timing = resolveTiming({ intervalMs: options.intervalMs });
  const targets = createTargetStore({
    dynamodb: options.dynamodb,
    tableName: options.tableName,
    intervalMs: timing.intervalMs,
    staleAfterMs: options.staleAfterMs ?? timing.staleAfterMs,
    clock: options.clock,
  });
  return notifierOver(targets, options.scheduler, options.clock ?? Date.now);
}

/** `notifyPending` over a target store the caller already has. */
export function notifierOver(
  targets: TargetStore,
  scheduler: DeliveryScheduler,
  clock: () => number,
): CallbackNotifier {
  return {
    async notifyPending(target) {
      const now = clock();
      const request = await targets.requestDelivery(target, now);
      if (request.pending === 'already') return request;
      // Should this fail, the flag stays: a delivery marked pending that
      // nobody scheduled is what the sweep (sweep.ts) finds and schedules,
      // even when no other status for the target ever comes.
      await scheduler.schedule(target, new Date(request.at));
      return request;
    },
  };
}
