/**
 * The parent's side of the consumer process: starts it, kills it with
 * SIGKILL, starts the next one, stops the last one gracefully, and keeps
 * the counts each one reported.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DeliveryScheduler } from '../lib/callbacks/scheduler.ts';
import {
  addStats,
  type ChildMessage,
  CONSUMER_CONFIG_ENV,
  type ConsumerConfig,
  type ConsumerStats,
  inFlight,
  NO_STATS,
  type StopMessage,
} from './ipc.ts';

const ENTRY = fileURLToPath(new URL('./consumer-process.ts', import.meta.url));

/** One SIGKILL of a consumer process. */
export interface Kill {
  readonly generation: number;
  /** When it was killed, ms since the epoch. */
  readonly at: number;
  /** Records in flight by its last report, at most 100 ms before. */
  readonly inFlight: number;
}

/** The consumer process of the moment and those before it. */
export interface ConsumerFleet {
  /** Starts the next consumer process; resolves once it polls. */
  start(): Promise<void>;
  /** Kills the running consumer process with SIGKILL. */
  kill(): Promise<Kill>;
  /** Lets the running one, if any, finish its batches and exit. */
  stop(): Promise<void>;
  /** Counts over every consumer process so far. */
  totals(): ConsumerStats;
  /** Counts of the running consumer process by its last report. */
  current(): ConsumerStats;
  readonly kills: readonly Kill[];
  /** Consumer processes that exited without being told to. */
  readonly crashes: number;
}

/** What the fleet does with its processes' requests and failures. */
export interface FleetHooks {
  readonly scheduler: DeliveryScheduler;
  readonly onError: (error: unknown) => void;
}

/** Creates the fleet; no process runs until `start`. */
export function createConsumerFleet(
  base: Omit<ConsumerConfig, 'generation'>,
  hooks: FleetHooks,
): ConsumerFleet {
  const stats = new Map<number, ConsumerStats>();
  const kills: Kill[] = [];
  const ending = new Set<ChildProcess>();
  let child: ChildProcess | undefined;
  let generation = 0;
  let crashes = 0;

  const onMessage = (message: ChildMessage) => {
    if (message.kind === 'stats') stats.set(message.generation, message.stats);
    if (message.kind === 'schedule') {
      hooks.scheduler
        .schedule(message.target, new Date(message.at))
        .catch(hooks.onError);
    }
  };
  const running = () => {
    if (!child) throw new Error('no consumer process is running');
    return child;
  };

  return {
    kills,
    get crashes() {
      return crashes;
    },
    async start() {
      generation += 1;
      const started = spawn({ ...base, generation }, onMessage);
      started.on('exit', () => {
        if (!ending.has(started)) crashes += 1;
      });
      child = started;
      await ready(started);
    },
    async kill() {
      const victim = running();
      const last = stats.get(generation) ?? NO_STATS;
      ending.add(victim);
      child = undefined;
      const exited = once(victim, 'exit');
      victim.kill('SIGKILL');
      await exited;
      const kill = { generation, at: Date.now(), inFlight: inFlight(last) };
      kills.push(kill);
      return kill;
    },
    async stop() {
      const last = child;
      if (!last || last.exitCode !== null || last.signalCode !== null) return;
      child = undefined;
      ending.add(last);
      const exited = once(last, 'exit');
      last.send({ kind: 'stop' } satisfies StopMessage);
      const limit = base.functionTimeoutMs + 5_000;
      const timer = setTimeout(() => last.kill('SIGKILL'), limit);
      await exited;
      clearTimeout(timer);
    },
    totals: () => [...stats.values()].reduce(addStats, NO_STATS),
    current: () => stats.get(generation) ?? NO_STATS,
  };
}

function spawn(
  config: ConsumerConfig,
  onMessage: (message: ChildMessage) => void,
): ChildProcess {
  const child = fork(ENTRY, [], {
    env: { ...process.env, [CONSUMER_CONFIG_ENV]: JSON.stringify(config) },
    // The parent may run under a test runner's loader flags; the consumer
    // process runs plain Node, which strips the types itself.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', onMessage);
  return child;
}

/** Resolves on the process's `ready`; rejects if it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(
        new Error(`consumer process exited before polling (${code ?? signal})`),
      );
    child.once('exit', onExit);
    child.on('message', (message: ChildMessage) => {
      if (message.kind !== 'ready') return;
      child.off('exit', onExit);
      resolve();
    });
  });
}
