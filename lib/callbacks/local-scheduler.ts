import type { DeliveryScheduler } from './scheduler.ts';

/** The local scheduler, which also stops. */
export interface LocalScheduler extends DeliveryScheduler {
  /** Timers waiting now, for tests and diagnostics. */
  readonly waiting: number;
  /**
   * Cancels every waiting timer and waits for dispatches in flight;
   * schedules asked for afterwards are dropped.
   */
  stop(): Promise<void>;
}

export interface LocalSchedulerOptions {
  /** Runs the dispatcher for a target. */
  readonly invoke: (target: string) => Promise<unknown>;
  /** Told of a dispatch that threw. @default ignore */
  readonly onError?: (error: unknown, target: string) => void;
  readonly clock?: () => number;
}

/**
 * The in-process stand-in for EventBridge Scheduler: a timer per target
 * and time that invokes the dispatcher. The same target and time
 * scheduled twice gives one timer, as a schedule name does on AWS.
 */
export function createLocalScheduler(
  options: LocalSchedulerOptions,
): LocalScheduler {
  const clock = options.clock ?? Date.now;
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const fire = (key: string, target: string) => {
    timers.delete(key);
    const run = options
      .invoke(target)
      .then(
        () => undefined,
        (error: unknown) => options.onError?.(error, target),
      )
      .finally(() => running.delete(run));
    running.add(run);
  };

  return {
    get waiting() {
      return timers.size;
    },
    async schedule(target, at) {
      const key = `${at.getTime()} ${target}`;
      if (stopped || timers.has(key)) return;
      const delay = Math.max(0, at.getTime() - clock());
      timers.set(
        key,
        setTimeout(() => fire(key, target), delay),
      );
    },
    async stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      while (running.size > 0) await Promise.all(running);
    },
  };
}
