/**
 * The safety net under the callback schedules. A delivery is pending
 * while its target's item carries `deliveryPendingSince`, and one firing
 * of the dispatcher is always meant to be on its way. If the consumer
 * that set the flag died before it scheduled that firing, or a schedule
 * was lost, nothing would come until the flag went stale (hours). The
 * sweep, run every few minutes, finds pending targets whose firing is
 * overdue and schedules one now. A firing too many is harmless: it finds
 * the target leased or its slot not come, and sends nothing.
 */
import {
  type DynamoDBDocumentClient,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Timing } from './config.ts';
import type { DeliveryScheduler } from './scheduler.ts';
import { nextSlot, type TargetState } from './targets.ts';

/**
 * How late a firing may be before the sweep steps in: EventBridge
 * Scheduler fires within a minute after its time, and the invocation
 * and a retry of it take some more.
 */
export const SWEEP_GRACE_MS = 120_000;

/** The event that asks the dispatcher function for a sweep. */
export interface SweepEvent {
  readonly sweep: 'pending-targets';
}

export const SWEEP_EVENT: SweepEvent = { sweep: 'pending-targets' };

export interface SweepOptions {
  readonly dynamodb: DynamoDBDocumentClient;
  /** The callback targets table. */
  readonly tableName: string;
  readonly scheduler: DeliveryScheduler;
  readonly timing: Pick<Timing, 'intervalMs' | 'indexLagMs'>;
  /** @default SWEEP_GRACE_MS */
  readonly graceMs?: number;
  readonly clock?: () => number;
}

/** What a sweep found and did. */
export interface SweepReport {
  /** Targets with a delivery pending. */
  readonly pending: number;
  /** Of those, the ones whose firing was overdue, now scheduled. */
  readonly rescheduled: readonly string[];
  /**
   * How long the longest-waiting overdue target has had a delivery
   * pending, in ms: its oldest status has waited that long.
   */
  readonly oldestOverdueMs?: number;
}

/**
 * When a firing for a pending target should have come at the latest: after
 * the last time anyone handled it (flag set, rescheduled, lease) and not
 * before its slot, plus the index lag an empty run waits.
 */
function expectedFiring(
  state: TargetState,
  timing: Pick<Timing, 'intervalMs' | 'indexLagMs'>,
): number {
  const handled = Math.max(
    state.deliveryPendingSince ?? 0,
    state.pendingCheckedAt ?? 0,
    state.leaseUntil ?? 0,
  );
  return nextSlot(state, handled, timing.intervalMs) + timing.indexLagMs;
}

/** Finds overdue pending targets and schedules a dispatch of each now. */
export async function sweepPendingTargets(
  options: SweepOptions,
): Promise<SweepReport> {
  const clock = options.clock ?? Date.now;
  const graceMs = options.graceMs ?? SWEEP_GRACE_MS;
  const now = clock();
  let pending = 0;
  let oldestOverdueMs: number | undefined;
  const rescheduled: string[] = [];
  for await (const state of pendingTargets(options)) {
    pending += 1;
    if (expectedFiring(state, options.timing) + graceMs > now) continue;
    await options.scheduler.schedule(state.target, new Date(now));
    rescheduled.push(state.target);
    const waited = now - (state.deliveryPendingSince ?? now);
    oldestOverdueMs = Math.max(oldestOverdueMs ?? 0, waited);
  }
  return { pending, rescheduled, oldestOverdueMs };
}

/**
 * Every target with a delivery pending. A full scan: the table holds one
 * small item per callback target, and the sweep runs every few minutes.
 */
async function* pendingTargets(
  options: SweepOptions,
): AsyncGenerator<TargetState> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await options.dynamodb.send(
      new ScanCommand({
        TableName: options.tableName,
        FilterExpression: 'attribute_exists(deliveryPendingSince)',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) yield item as TargetState;
    start = page.LastEvaluatedKey;
  } while (start);
}
