/**
 * The callback dispatcher: per callback target, at most one request per
 * interval, carrying every status gathered since the last one.
 *
 * How a status is delivered once:
 * 1. The consumer writes the final status with `pendingTarget` (outbox),
 *    then calls `notifyPending`: one atomic update marks a delivery
 *    pending unless one is, and only the caller that set the flag
 *    schedules it (now for an idle target, else at the next slot).
 * 2. A dispatch first takes the target's lease (a conditional write), so
 *    a duplicated or overlapping scheduler firing finds it busy and sends
 *    nothing. Under the lease it sends only when the slot has come
 *    (`nextAttemptAt`), so a firing right after a delivery sends nothing
 *    either and only makes sure the next slot is scheduled.
 * 3. The statuses are read from the index, then re-read with consistent
 *    reads: the index may lag behind the removal of delivered ones.
 * 4. After a 2xx every sent status leaves the index (conditional on still
 *    being pending for this target), then the delivery time is recorded,
 *    then the lease goes. The pending flag goes with it only when no more
 *    statuses wait and none asked for a delivery since shortly before the
 *    index was read (`indexLagMs`); otherwise the next slot is scheduled.
 *
 * A crash between a 2xx and the removal sends those statuses again with
 * the next delivery: delivery is exactly once while the dispatcher lives,
 * at least once across crashes. Receivers can drop repeats by task id.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type DeliveryTiming, resolveTiming, type Timing } from './config.ts';
import { LeaseLostError } from './errors.ts';
import { notifierOver } from './notify.ts';
import { createPendingStatuses, type PendingStatuses } from './pending.ts';
import { runLeased } from './run.ts';
import type { DeliveryScheduler } from './scheduler.ts';
import type { SecretSource } from './secrets.ts';
import { type SweepReport, sweepPendingTargets } from './sweep.ts';
import type { TargetPolicy } from './target-guard.ts';
import {
  createTargetStore,
  type TargetState,
  type TargetStore,
} from './targets.ts';

/** Where the dispatcher logs; Powertools' Logger fits. */
export interface CallbackLogger {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export interface DispatcherOptions {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly tables: {
    readonly statusOutbox: string;
    readonly callbackTargets: string;
  };
  /** URL of the callback dead-letter queue. */
  readonly deadLetterQueueUrl: string;
  readonly scheduler: DeliveryScheduler;
  readonly secrets: SecretSource;
  /** @default https only, public addresses only, any host */
  readonly policy?: TargetPolicy;
  readonly timing?: DeliveryTiming;
  /** @default silent */
  readonly logger?: CallbackLogger;
  readonly clock?: () => number;
}

/** What one dispatch did. */
export type DispatchOutcome =
  /** Another dispatch holds the target; a check after its lease is set. */
  | 'busy'
  /** No delivery was pending. */
  | 'idle'
  /** The slot has not come; the delivery is scheduled for it. */
  | 'not-due'
  /** A delivery was pending but no status waited. */
  | 'empty'
  | 'delivered'
  /** Not delivered; kept for a later slot (or dead-lettered if too old). */
  | 'failed'
  /** 410 Gone: the target is disabled, its statuses dead-lettered. */
  | 'gone'
  /** The target failed the safety checks; its statuses dead-lettered. */
  | 'refused';

/** The result of `dispatch`, also the source of its metrics. */
export interface DispatchReport {
  readonly target: string;
  readonly outcome: DispatchOutcome;
  /** Statuses the receiver accepted. */
  readonly delivered: number;
  readonly deadLettered: number;
  /** Age of the oldest status this dispatch saw, in ms. */
  readonly oldestAgeMs?: number;
  readonly httpStatus?: number;
  /** Code of the failure or refusal. */
  readonly errorCode?: string;
  /** When the next delivery is scheduled, while one stays pending. */
  readonly nextRunAt?: number;
}

/** What a leased run works with. */
export interface RunContext {
  readonly options: DispatcherOptions;
  readonly timing: Timing;
  readonly targets: TargetStore;
  readonly pending: PendingStatuses;
  readonly logger: CallbackLogger;
  readonly clock: () => number;
}

const silent: CallbackLogger = { info() {}, warn() {}, error() {} };

/**
 * Builds the dispatcher.
 *
 * @example
 * const dispatcher = createDispatcher({ dynamodb, sqs, tables,
 *   deadLetterQueueUrl, scheduler, secrets });
 * await outbox.finish(task, outcome);
 * if (task.callbackUrl) await dispatcher.notifyPending(task.callbackUrl);
 */
export function createDispatcher(options: DispatcherOptions) {
  const timing = resolveTiming(options.timing);
  const clock = options.clock ?? Date.now;
  const context: RunContext = {
    options,
    timing,
    clock,
    logger: options.logger ?? silent,
    targets: createTargetStore({
      dynamodb: options.dynamodb,
      tableName: options.tables.callbackTargets,
      intervalMs: timing.intervalMs,
      staleAfterMs: timing.staleAfterMs,
      clock,
    }),
    pending: createPendingStatuses({
      dynamodb: options.dynamodb,
      tableName: options.tables.statusOutbox,
    }),
  };

  return {
    timing,
    targets: context.targets,
    ...notifierOver(context.targets, options.scheduler, clock),

    /** Delivers what is pending for `target`, if its slot has come. */
    async dispatch(target: string): Promise<DispatchReport> {
      const owner = randomUUID();
      const state = await context.targets.acquireLease(
        target,
        owner,
        clock(),
        timing.leaseMs,
      );
      if (!state) return busy(context, target);
      try {
        return await runLeased(context, state, owner);
      } catch (error) {
        await recover(context, state, owner, error);
        throw error;
      }
    },

    /** Schedules a dispatch of every pending target whose firing is overdue. */
    sweep(): Promise<SweepReport> {
      return sweepPendingTargets({
        dynamodb: options.dynamodb,
        tableName: options.tables.callbackTargets,
        scheduler: options.scheduler,
        timing,
        clock,
      });
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

/** A look after the holder's lease ends, in case its holder died. */
async function busy(context: RunContext, target: string) {
  const at = context.clock() + context.timing.leaseMs;
  await context.options.scheduler.schedule(target, new Date(at));
  return { target, outcome: 'busy', delivered: 0, deadLettered: 0 } as const;
}

/** After an unexpected error: hand the target back, try a slot later. */
async function recover(
  context: RunContext,
  state: TargetState,
  owner: string,
  error: unknown,
): Promise<void> {
  const fields = { target: state.target, error: String(error) };
  context.logger.error('callback dispatch failed', fields);
  if (error instanceof LeaseLostError) return;
  const at = context.clock() + context.timing.intervalMs;
  try {
    await context.targets.release(state.target, owner, { keepPending: true });
    await context.options.scheduler.schedule(state.target, new Date(at));
  } catch (cleanup) {
    // The lease then runs out and the next firing takes over.
    context.logger.warn('callback target not handed back', {
      ...fields,
      cleanupError: String(cleanup),
    });
  }
}
