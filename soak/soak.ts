/**
 * The soak: many tasks, transient and poison failures, consumers killed
 * with SIGKILL mid-batch and restarted, then an account of every task.
 *
 * The emulators, the callback dispatcher and the receiver run in this
 * process; the consumers run in a child process (consumer-host.ts) that
 * is killed `restarts` times while batches are in flight. The messages of
 * a killed batch come back after the queues' visibility timeout.
 *
 * @example
 * const report = await runSoak(resolveSoakOptions({ tasks: 2_000 }));
 * if (!report.passed) process.exitCode = 1;
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProducer } from '../lib/producer.ts';
import type { RetryPolicy } from '../lib/retry.ts';
import { collect } from './collect.ts';
import { countSoak, type SoakCounts } from './counts.ts';
import {
  SOAK_PREFIX,
  type SoakEnvironment,
  startSoakEnvironment,
} from './environment.ts';
import { type ConsumerFleet, createConsumerFleet, type Kill } from './fleet.ts';
import type { ConsumerConfig } from './ipc.ts';
import type { SoakOptions } from './options.ts';
import { type SoakReceiver, startSoakReceiver } from './receiver.ts';
import {
  printProgress,
  restartMidBatch,
  waitForCallbacks,
} from './schedule.ts';
import { type SentTasks, sendTasks } from './send.ts';
import { SOAK_TASK_TYPE } from './task.ts';
import { type Check, judge } from './verdict.ts';

/**
 * Retries of the soak: 5, as the standard allows, after 1, 1-2, then 2 s,
 * so a poison task is dead-lettered in about 10 s rather than a minute.
 */
export const SOAK_RETRY: RetryPolicy = {
  maxRetries: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 2,
};

/** Durations of the run's phases, in ms. */
export interface SoakTimings {
  /** Emulators, resources and the first consumer process. */
  readonly setupMs: number;
  /** From the first to the last accepted batch of tasks. */
  readonly sendMs: number;
  /** From the first send until every status had reached the receiver. */
  readonly allFinalMs: number;
  /** Reading back the outbox, dead letters and effects. */
  readonly collectMs: number;
  readonly totalMs: number;
}

/** The outcome of one soak run. */
export interface SoakReport {
  readonly options: SoakOptions;
  readonly counts: SoakCounts;
  readonly checks: readonly Check[];
  readonly passed: boolean;
  readonly kills: readonly Kill[];
  readonly timings: SoakTimings;
  /** Times a send met a full queue and waited (R4). */
  readonly queueFullWaits: number;
  /** Warnings and errors of the callback dispatcher. */
  readonly dispatcherLog: readonly string[];
}

/** Runs one soak; `tell` hears of its progress, each line timed. */
export async function runSoak(
  options: SoakOptions,
  tell: (line: string) => void = () => {},
): Promise<SoakReport> {
  const startedAt = Date.now();
  const print = (line: string) =>
    tell(`${((Date.now() - startedAt) / 1000).toFixed(1)} s ${line}`);
  const signingKey = { keyId: 'soak', secret: randomBytes(24).toString('hex') };
  const receiver = await startSoakReceiver(signingKey);
  const env = await startSoakEnvironment(options, signingKey);
  const fleet = createConsumerFleet(consumerConfig(env, options), {
    scheduler: env.callbacks.scheduler,
    onError: (error) => print(`soak: scheduling failed: ${String(error)}`),
  });
  const watched = { receiver, fleet, options, print };
  const stopPrinting = printProgress(watched, options.tasks);
  try {
    await fleet.start();
    return await soakOn({ ...watched, env, startedAt });
  } finally {
    stopPrinting();
    await fleet.stop().catch(() => undefined);
    await env.stop();
    await receiver.stop();
  }
}

/** What a running soak works with. */
interface Soak {
  readonly env: SoakEnvironment;
  readonly receiver: SoakReceiver;
  readonly fleet: ConsumerFleet;
  readonly options: SoakOptions;
  readonly print: (line: string) => void;
  readonly startedAt: number;
}

async function soakOn(soak: Soak): Promise<SoakReport> {
  const { env, receiver, fleet, options, print } = soak;
  const producer = createProducer({
    sqs: env.clients.sqs,
    registry: env.registry,
    prefix: SOAK_PREFIX,
    allowHttpCallbacks: true,
  });
  const sendStart = Date.now();
  print(`soak: sending ${options.tasks} tasks`);
  const sending = sendTasks(producer, options, receiver.urlOf);
  const restarting = restartMidBatch(fleet, options, print);
  const [sent] = await Promise.all([sending, restarting]);

  const allFinal = await waitForCallbacks(soak, sent.kinds.size);
  // Late copies of a status would come with the next deliveries.
  await sleep(2 * options.callbackIntervalMs);
  await fleet.stop();
  const collectStart = Date.now();
  const collected = await collect(env);
  const timings = {
    setupMs: sendStart - soak.startedAt,
    sendMs: sent.endedAt - sent.startedAt,
    allFinalMs: allFinal - sendStart,
    collectMs: Date.now() - collectStart,
    totalMs: Date.now() - soak.startedAt,
  };
  return report(soak, sent, { collected, timings });
}

function report(
  soak: Soak,
  sent: SentTasks,
  done: {
    collected: Awaited<ReturnType<typeof collect>>;
    timings: SoakTimings;
  },
): SoakReport {
  const { fleet, options } = soak;
  const counts = countSoak({
    sent,
    collected: done.collected,
    receiver: soak.receiver,
    kills: fleet.kills,
    functionTimeoutMs: options.functionTimeoutMs,
    consumers: fleet.totals(),
  });
  const checks = judge({
    counts,
    kills: fleet.kills,
    restarts: options.restarts,
    crashes: fleet.crashes,
    callbackIntervalMs: options.callbackIntervalMs,
  });
  return {
    options,
    counts,
    checks,
    passed: checks.every((c) => c.ok),
    kills: fleet.kills,
    timings: done.timings,
    queueFullWaits: sent.queueFullWaits,
    dispatcherLog: soak.env.dispatcherLog,
  };
}

function consumerConfig(
  env: SoakEnvironment,
  options: SoakOptions,
): Omit<ConsumerConfig, 'generation'> {
  const { names } = env.resources;
  return {
    messagingEndpoint: env.emulators.messagingEndpoint,
    dynamodbEndpoint: env.emulators.dynamodbEndpoint,
    queues: env.resources.queues
      .filter((queue) => queue.taskType === SOAK_TASK_TYPE)
      .map(({ name, url, arn }) => ({ name, url, arn })),
    tables: {
      idempotency: names.idempotencyTable,
      statusOutbox: names.statusOutboxTable,
      callbackTargets: names.callbackTargetsTable,
      effects: env.effectsTable,
    },
    retry: SOAK_RETRY,
    callbackIntervalMs: options.callbackIntervalMs,
    functionTimeoutMs: options.functionTimeoutMs,
    concurrency: options.concurrency,
    logLevel: options.logLevel,
  };
}
