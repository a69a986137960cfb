/** How a leased dispatch hands its target back and reports. */
import type {
  DispatchOutcome,
  DispatchReport,
  RunContext,
} from './dispatcher.ts';
import type { StatusEntry } from './pending.ts';
import type { TargetState } from './targets.ts';

/** A leased run: the context, the target's state, the lease owner. */
export interface Run {
  readonly context: RunContext;
  readonly state: TargetState;
  readonly owner: string;
  readonly target: string;
}

/** What a run reports besides its outcome. */
export type Tally = Partial<Omit<DispatchReport, 'target' | 'outcome'>>;

/**
 * Hands the target back. With more statuses waiting, or a status that
 * arrived too close to the read of the index to be sure it was seen, the
 * delivery stays pending and is scheduled at `nextAt`.
 */
export async function finish(
  run: Run,
  outcome: DispatchOutcome,
  readAt: number,
  more: boolean,
  nextAt: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner } = run;
  if (!more) {
    const quietSince = readAt - context.timing.indexLagMs;
    const release = { keepPending: false, quietSince } as const;
    if (await context.targets.release(target, owner, release)) {
      return report(run, outcome, tally);
    }
    await context.options.scheduler.schedule(target, new Date(nextAt));
    return report(run, outcome, { ...tally, nextRunAt: nextAt });
  }
  return hold(run, outcome, nextAt, tally);
}

/** Keeps the delivery pending, hands the lease back, schedules `at`. */
export async function hold(
  run: Run,
  outcome: DispatchOutcome,
  at: number,
  tally: Tally,
): Promise<DispatchReport> {
  const { context, target, owner } = run;
  await context.targets.release(target, owner, { keepPending: true });
  await context.options.scheduler.schedule(target, new Date(at));
  return report(run, outcome, { ...tally, nextRunAt: at });
}

/** The report of a run, counts defaulting to zero. */
export function report(
  run: Run,
  outcome: DispatchOutcome,
  tally: Tally,
): DispatchReport {
  return {
    delivered: 0,
    deadLettered: 0,
    ...tally,
    target: run.target,
    outcome,
  };
}

/** How long ago a status finished, in ms. */
export function ageOf(status: StatusEntry | undefined, now: number): number {
  const finished = Date.parse(status?.finishedAt ?? '');
  return Number.isNaN(finished) ? 0 : Math.max(0, now - finished);
}
