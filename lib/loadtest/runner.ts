/**
 * Runs a load test: sends tasks at a paced rate through the producer,
 * waits for their final statuses in the status outbox, and measures.
 */
import os from 'node:os';
import type { Progress } from '../cli/progress.ts';
import type { Target } from '../cli/target.ts';
import { TasklaneError } from '../errors.ts';
import { createProducer } from '../producer.ts';
import { taskQueueName } from '../queue-names.ts';
import { type OutboxSource, waitForFinal } from './collect.ts';
import { planBatches, totalTasks } from './pacing.ts';
import {
  assertPlan,
  FLAKY_TYPE,
  type LoadtestPlan,
  loadtestRegistry,
} from './plan.ts';
import { buildResult, type LoadtestResult } from './result.ts';
import { type SendOutcome, sendPaced } from './sender.ts';

/** What a load test runs against. */
export interface LoadtestDeps {
  /** Where tasks go; its SQS client sends them. */
  readonly target: Target;
  /** Where their final statuses are read. */
  readonly outbox: OutboxSource;
  /** Shows progress of a phase. @default - nothing shown */
  readonly progress?: (label: string, total: number) => Progress;
  /** Uniform draws in [0, 1) that pick each task. @default Math.random */
  readonly random?: () => number;
}

/** A queue the plan sends to does not exist at the target. */
export class LoadtestQueueError extends TasklaneError {
  constructor(message: string, options?: ErrorOptions) {
    super('QUEUE_MISSING', message, options);
  }
}

const quiet: Progress = { advance() {}, update() {}, stop() {} };

/**
 * Runs a load test and resolves to its result; writes nothing. Throws
 * ValidationError for a bad plan, LoadtestQueueError when a queue is
 * missing, and any error of the target that stops the sending.
 *
 * @example
 * const result = await runLoadtest(
 *   { ...plan, rate: 200, durationSeconds: 10 },
 *   { target, outbox: { dynamodb, tableName: 'tasklane-status-outbox' } },
 * );
 * console.log(result.latencyMs.firstAttempt.p99, result.pass);
 */
export async function runLoadtest(
  plan: LoadtestPlan,
  deps: LoadtestDeps,
): Promise<LoadtestResult> {
  assertPlan(plan);
  await assertQueues(plan, deps.target);
  const loadStart = os.loadavg();

  if ((plan.warmupSeconds ?? 0) > 0) await warmUp(plan, deps);
  const sent = await sendAll(plan, deps, 'sending');
  const finals = await waitAll(plan, deps, sent, 'finishing');

  const machine = machineOf(loadStart);
  const target = targetOf(deps);
  return buildResult(plan, sent, finals, { target, machine });
}

/**
 * Sends at the rate for the warm-up seconds and waits until those tasks
 * end, so the measured tasks meet a warm pipeline with empty queues.
 */
async function warmUp(plan: LoadtestPlan, deps: LoadtestDeps): Promise<void> {
  const warmup = { ...plan, durationSeconds: plan.warmupSeconds ?? 0 };
  const sent = await sendAll(warmup, deps, 'warm-up');
  await waitAll(plan, deps, sent, 'warm-up finishing');
}

function waitAll(
  plan: LoadtestPlan,
  deps: LoadtestDeps,
  sent: SendOutcome,
  label: string,
) {
  return phase(deps, label, sent.sent.size, (bar) =>
    waitForFinal(deps.outbox, [...sent.sent.keys()], {
      timeoutMs: plan.waitSeconds * 1000,
      onProgress: (ended) => bar.update(ended),
    }),
  );
}

function sendAll(plan: LoadtestPlan, deps: LoadtestDeps, label: string) {
  const { target } = deps;
  const producer = createProducer({
    sqs: target.clients.sqs,
    registry: loadtestRegistry,
    prefix: target.prefix,
    allowHttpCallbacks: target.local,
  });
  const total = totalTasks(plan.rate, plan.durationSeconds);
  return phase(deps, label, total, (bar) =>
    sendPaced(planBatches(plan, deps.random), {
      producer,
      sqs: target.clients.sqs,
      senders: plan.senders,
      templates: plan.templates,
      onSettled: (count) => bar.advance(count),
    }),
  );
}

/** Runs a phase with its own progress bar, stopped however it ends. */
async function phase<T>(
  deps: LoadtestDeps,
  label: string,
  total: number,
  work: (bar: Progress) => Promise<T>,
): Promise<T> {
  const bar = deps.progress?.(label, total) ?? quiet;
  try {
    return await work(bar);
  } finally {
    bar.stop();
  }
}

/** The queues the plan may send to, by task type and priority. */
export function plannedQueues(plan: LoadtestPlan, prefix: string): string[] {
  const types = new Set(plan.mix.map((entry) => entry.taskType));
  if (plan.failShare > 0 || plan.poisonShare > 0) types.add(FLAKY_TYPE);
  const priorities = [
    ...(plan.highShare > 0 ? (['high'] as const) : []),
    ...(plan.highShare < 1 ? (['normal'] as const) : []),
  ];
  return [...types].flatMap((type) =>
    priorities.map((priority) => taskQueueName(prefix, type, priority)),
  );
}

/** Checks every queue exists before the first send, naming a missing one. */
async function assertQueues(plan: LoadtestPlan, target: Target) {
  for (const name of plannedQueues(plan, target.prefix)) {
    try {
      await target.queueUrl(name);
    } catch (error) {
      const hint = name.includes('demo-flaky')
        ? '; demo.flaky is served by `tasklane local` with its demo ' +
          '(not --no-demo): pick deployed task types with --mix'
        : '';
      throw new LoadtestQueueError(`${(error as Error).message}${hint}`, {
        cause: error,
      });
    }
  }
}

function targetOf(deps: LoadtestDeps): Record<string, string | undefined> {
  const { options, local, prefix } = deps.target;
  return {
    mode: local ? 'local' : 'aws',
    endpoint: options.endpoint,
    region: options.region,
    stack: local ? undefined : options.stack,
    prefix,
    tableName: deps.outbox.tableName,
  };
}

/** The sending machine: R14 and R15 figures depend on it locally. */
function machineOf(loadStart: number[]): Record<string, unknown> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    loadStart: loadStart.map((n) => Number(n.toFixed(2))),
    loadEnd: os.loadavg().map((n) => Number(n.toFixed(2))),
  };
}
