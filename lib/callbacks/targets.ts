/**
 * The state of each callback target, kept in DynamoDB so that every
 * consumer and dispatcher, wherever it runs, sees one throttle:
 *
 * - `lastDeliveryAt`: when the last successful request ended (ms);
 * - `nextAttemptAt`: earliest start of the next request: the last delivery
 *   plus the interval, or later while backing off after failures;
 * - `deliveryPendingSince`: present while a delivery is pending (the flag
 *   that keeps a second one from being scheduled), set to when it became
 *   pending; `pendingCheckedAt`: when a dispatcher last scheduled it;
 *   `requestedAt`: when a status last asked for a delivery;
 * - `consecutiveFailures`, `lastError`: the failures since the last success;
 * - `disabled`, `disabledReason`: the receiver answered 410 Gone;
 * - `leaseOwner`, `leaseUntil`: the one dispatcher working on the target.
 */
import {
  type DynamoDBDocumentClient,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { CALLBACK_TARGETS_KEY } from '../tables.ts';
import { ignoreConditionFailure, leasedUpdate } from './conditional.ts';

/** A callback target's item. Times are milliseconds since the epoch. */
export interface TargetState {
  readonly target: string;
  readonly lastDeliveryAt?: number;
  readonly nextAttemptAt?: number;
  readonly deliveryPendingSince?: number;
  readonly pendingCheckedAt?: number;
  readonly requestedAt?: number;
  readonly consecutiveFailures?: number;
  readonly lastError?: string;
  readonly disabled?: boolean;
  readonly disabledReason?: string;
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
}

/** What `requestDelivery` did. */
export type DeliveryRequest =
  /** A delivery became pending: the caller schedules it at `at`. */
  | { readonly pending: 'new'; readonly at: number }
  /** One was pending already; it will carry this status too. */
  | { readonly pending: 'already' };

/** How a dispatcher hands a target back. */
export type Release =
  /** A delivery stays pending (the caller schedules it). */
  | { readonly keepPending: true }
  /**
   * Nothing is left: the pending flag goes too, unless a status asked for
   * a delivery at or after `quietSince`; then it stays (resolves false).
   */
  | { readonly keepPending: false; readonly quietSince: number };

export interface TargetStoreOptions {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The least time between two requests to a target. */
  readonly intervalMs: number;
  /**
   * Age after which a pending flag that no dispatcher has scheduled again
   * is taken for lost (its schedule failed or its dispatcher died), so the
   * next status schedules anew. Longer than any back-off and lease.
   */
  readonly staleAfterMs: number;
  readonly clock?: () => number;
}

/** Reads and writes callback targets' state, each write conditional. */
export function createTargetStore(options: TargetStoreOptions) {
  const { dynamodb, tableName, intervalMs, staleAfterMs } = options;
  const clock = options.clock ?? Date.now;
  const update = async (input: Omit<UpdateCommandInput, 'TableName'>) => {
    const { Attributes } = await dynamodb.send(
      new UpdateCommand({ TableName: tableName, ...input }),
    );
    return Attributes as TargetState | undefined;
  };
  const leased = leasedUpdate(update);
  const isStale = (state: TargetState, now: number) =>
    Math.max(state.deliveryPendingSince ?? 0, state.pendingCheckedAt ?? 0) <
      now - staleAfterMs && !((state.leaseUntil ?? 0) > now);

  /** Claims a stale pending flag; true for the one caller that did. */
  const takeOver = (target: string, now: number) =>
    update({
      Key: { [CALLBACK_TARGETS_KEY]: target },
      UpdateExpression: 'SET pendingCheckedAt = :now',
      ConditionExpression:
        'deliveryPendingSince < :horizon AND ' +
        '(attribute_not_exists(pendingCheckedAt) OR ' +
        'pendingCheckedAt < :horizon) AND ' +
        '(attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      ExpressionAttributeValues: {
        ':now': now,
        ':horizon': now - staleAfterMs,
      },
    }).then(
      () => true,
      (error) => ignoreConditionFailure(error).then(() => false),
    );

  return {
    /**
     * Marks a delivery pending unless one is, in one atomic UpdateItem:
     * `if_not_exists` keeps an existing flag, and the old item tells
     * whether this call set it, so of any number of concurrent callers
     * exactly one gets `pending: 'new'`. `requestedAt` is written either
     * way, so a dispatcher finishing meanwhile sees a status came.
     * The time returned is now for an idle target, else the next slot.
     * A flag older than `staleAfterMs` is taken over by one caller.
     */
    async requestDelivery(target: string, now: number) {
      const old = await update({
        Key: { [CALLBACK_TARGETS_KEY]: target },
        UpdateExpression:
          'SET deliveryPendingSince = ' +
          'if_not_exists(deliveryPendingSince, :now), requestedAt = :now',
        ExpressionAttributeValues: { ':now': now },
        ReturnValues: 'ALL_OLD',
      });
      const fresh = { pending: 'new', at: nextSlot(old, now, intervalMs) };
      if (old?.deliveryPendingSince === undefined) {
        return fresh as DeliveryRequest;
      }
      const tookOver = isStale(old, now) && (await takeOver(target, now));
      return (tookOver ? fresh : { pending: 'already' }) as DeliveryRequest;
    },

    /**
     * Takes the target's lease for `leaseMs`; resolves to its state, or to
     * undefined while another dispatcher holds an unexpired lease.
     */
    async acquireLease(
      target: string,
      owner: string,
      now: number,
      leaseMs: number,
    ) {
      return update({
        Key: { [CALLBACK_TARGETS_KEY]: target },
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        ConditionExpression:
          'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
        ExpressionAttributeValues: {
          ':owner': owner,
          ':until': now + leaseMs,
          ':now': now,
        },
        ReturnValues: 'ALL_NEW',
      }).catch(ignoreConditionFailure);
    },

    /** Records a 2xx answer that ended at `now`. */
    recordSuccess(target: string, owner: string, now: number) {
      return leased(target, owner, {
        UpdateExpression:
          'SET lastDeliveryAt = :now, nextAttemptAt = :next, ' +
          'consecutiveFailures = :zero REMOVE lastError',
        ExpressionAttributeValues: {
          ':now': now,
          ':next': now + intervalMs,
          ':zero': 0,
        },
      });
    },

    /** Records a failed attempt and when the next one may start. */
    recordFailure(
      target: string,
      owner: string,
      failures: number,
      nextAttemptAt: number,
      error: string,
    ) {
      return leased(target, owner, {
        UpdateExpression:
          'SET consecutiveFailures = :failures, nextAttemptAt = :next, ' +
          'lastError = :error',
        ExpressionAttributeValues: {
          ':failures': failures,
          ':next': nextAttemptAt,
          ':error': error,
        },
      });
    },

    /** Stops deliveries to a target that answered 410 Gone. */
    disable(target: string, owner: string, reason: string, now: number) {
      return leased(target, owner, {
        UpdateExpression:
          'SET disabled = :yes, disabledReason = :reason, disabledAt = :now',
        ExpressionAttributeValues: {
          ':yes': true,
          ':reason': reason,
          ':now': now,
        },
      });
    },

    /**
     * Gives the lease back. Resolves to false when a delivery stays
     * pending, true when the pending flag went with the lease.
     */
    async release(target: string, owner: string, release: Release) {
      if (!release.keepPending) {
        const cleared = await leased(target, owner, {
          UpdateExpression:
            'REMOVE leaseOwner, leaseUntil, deliveryPendingSince',
          ConditionExpression:
            'attribute_not_exists(requestedAt) OR requestedAt < :quiet',
          ExpressionAttributeValues: { ':quiet': release.quietSince },
        }).then(
          () => true,
          (error) => ignoreConditionFailure(error).then(() => false),
        );
        if (cleared) return true;
      }
      await leased(target, owner, {
        UpdateExpression:
          'REMOVE leaseOwner, leaseUntil SET pendingCheckedAt = :now',
        ExpressionAttributeValues: { ':now': clock() },
      });
      return false;
    },

    /** Lets deliveries to a disabled target resume. */
    async enable(target: string) {
      await update({
        Key: { [CALLBACK_TARGETS_KEY]: target },
        UpdateExpression:
          'REMOVE disabled, disabledReason, disabledAt, ' +
          'consecutiveFailures, lastError',
      });
    },
  };
}

export type TargetStore = ReturnType<typeof createTargetStore>;

/** The earliest start of the next request to a target, from `now` on. */
export function nextSlot(
  state: TargetState | undefined,
  now: number,
  intervalMs: number,
): number {
  const afterLast = (state?.lastDeliveryAt ?? -Infinity) + intervalMs;
  return Math.max(now, afterLast, state?.nextAttemptAt ?? -Infinity);
}
