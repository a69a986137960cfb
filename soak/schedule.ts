/**
 * When the soak acts: the kills of the consumer process, spread over the
 * run by the share of tasks done, and the wait until every status has
 * reached the receiver or nothing moves any more.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerFleet } from './fleet.ts';
import { inFlight } from './ipc.ts';
import type { SoakOptions } from './options.ts';
import type { SoakReceiver } from './receiver.ts';

/** How often the soak looks at its counts, in ms. */
const LOOK_EVERY_MS = 10;
/** How often it prints its progress, in ms. */
const PRINT_EVERY_MS = 10_000;

/** What the waits watch. */
export interface Watched {
  readonly receiver: SoakReceiver;
  readonly fleet: ConsumerFleet;
  readonly options: SoakOptions;
  readonly print: (line: string) => void;
}

/**
 * Kills the consumer process `restarts` times, at even shares of the
 * tasks deleted from the queues (a quarter, half and three quarters for
 * 3), each time while records are in flight, and starts the next one at
 * once. Gives up on the remaining kills when nothing moves for `stallMs`.
 */
export async function restartMidBatch(
  fleet: ConsumerFleet,
  options: SoakOptions,
  print: (line: string) => void,
): Promise<void> {
  for (let k = 1; k <= options.restarts; k += 1) {
    const threshold = (options.tasks * k) / (options.restarts + 1);
    const due = () =>
      fleet.totals().deleted >= threshold && inFlight(fleet.current()) > 0;
    if (!(await waitFor(due, () => fleet.totals().received, options))) {
      print(`soak: no progress for ${options.stallMs} ms; kill ${k} skipped`);
      return;
    }
    const kill = await fleet.kill();
    print(
      `soak: killed consumer process ${kill.generation} with SIGKILL, ` +
        `${kill.inFlight} records in flight, ${fleet.totals().deleted} ` +
        'deleted so far',
    );
    await fleet.start();
  }
}

/**
 * Waits until the receiver holds the status of `expected` tasks, or until
 * nothing moves for `stallMs`; resolves to the time it ended.
 */
export async function waitForCallbacks(
  watched: Watched,
  expected: number,
): Promise<number> {
  const { receiver, fleet, options, print } = watched;
  const done = () => receiver.statuses.size >= expected;
  const progress = () => receiver.statuses.size + fleet.totals().received;
  if (!(await waitFor(done, progress, options))) {
    print(`soak: no progress for ${options.stallMs} ms; stopped waiting`);
  }
  return Date.now();
}

/** Prints the counts every 10 s until the returned function is called. */
export function printProgress(watched: Watched, expected: number) {
  const { receiver, fleet, print } = watched;
  const timer = setInterval(() => {
    const totals = fleet.totals();
    print(
      `soak: ${totals.deleted} messages deleted, ${inFlight(fleet.current())} ` +
        `in flight, ${receiver.statuses.size} of ${expected} statuses received`,
    );
  }, PRINT_EVERY_MS);
  return () => clearInterval(timer);
}

/**
 * Resolves to true once `done` holds, to false when `progress` has not
 * changed for `stallMs`.
 */
async function waitFor(
  done: () => boolean,
  progress: () => number,
  options: SoakOptions,
): Promise<boolean> {
  let last = progress();
  let movedAt = Date.now();
  while (!done()) {
    await sleep(LOOK_EVERY_MS);
    const now = progress();
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > options.stallMs) {
      return false;
    }
  }
  return true;
}
