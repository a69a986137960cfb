import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { demoFlaky } from '../lib/local/demo-tasks.ts';
import {
  type LocalPipeline,
  startLocalPipeline,
} from '../lib/local/runtime.ts';
import { createRegistry } from '../lib/registry.ts';
import type { TaskModule } from '../lib/task-module.ts';
import { instantEnvelope } from './records.ts';
import { drain, sendAll } from './sqs-traffic.ts';
import { median, perSecond, ratio } from './stats.ts';

/** How much work the throughput benchmark does. */
export interface ThroughputOptions {
  /** Messages per run, raw and through the pipeline alike. */
  readonly tasks: number;
  /** Measured runs of each kind, after a warm-up run. */
  readonly rounds: number;
  /** Tasks per kind run first, unmeasured. */
  readonly warmUpTasks: number;
  /** Send batches in flight at once. @default 5 */
  readonly senders?: number;
}

/** Median rates of the measured rounds, per second. */
export interface ThroughputResult {
  readonly tasks: number;
  readonly rounds: number;
  /** Receive loops on the queue: the poller's maximum concurrency. */
  readonly workers: number;
  readonly batchSize: number;
  readonly senders: number;
  /** Raw: sending all, then receiving and deleting all. */
  readonly rawSend: number;
  readonly rawDrain: number;
  /** N over send time plus drain time. */
  readonly rawSequential: number;
  /** Raw: receiving and deleting while the messages are being sent. */
  readonly rawOverlapped: number;
  /** The better of the two raw rates: the emulator's ceiling. */
  readonly ceiling: number;
  /** Tasks sent, validated, run and given their final status. */
  readonly pipeline: number;
  /** Pipeline over ceiling. */
  readonly ratio: number;
  /**
   * CPU time of this process (emulators, clients and consumers all run in
   * it) over wall time, per kind of run: 1 is one core busy throughout,
   * which is all one Node.js thread can use.
   */
  readonly cpuBusy: {
    readonly rawDrain: number;
    readonly rawOverlapped: number;
    readonly pipeline: number;
  };
}

/** The benchmark's pipeline: `demo.flaky` only, quiet, on free ports. */
const PIPELINE_OPTIONS = {
  registry: createRegistry([demoFlaky as TaskModule]),
  prefix: 'bench',
  ports: { messaging: 0, dynamodb: 0 },
  logLevel: 'SILENT',
  signingKey: { keyId: 'bench', secret: 'bench-secret-0123456789' },
} as const;

const DEADLINE_MS = 60_000;

interface Lane {
  readonly sqs: SQSClient;
  readonly rawUrl: string;
  readonly taskUrl: string;
  readonly completed: () => number;
  readonly senders: number;
}

/**
 * Throughput of the local pipeline against what its own fauxqs sustains
 * with no handler. Both kinds of run take place on one fauxqs instance,
 * the pipeline's: the raw runs on a queue of their own with as many
 * receive loops, and the same batch size, as the pipeline's poller of the
 * loaded queue; the pipeline runs on `demo.flaky`'s normal queue with
 * instant tasks. The same sender sends new bodies of the same kind to both.
 */
export async function benchPipelineThroughput(
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const pipeline = await startLocalPipeline(PIPELINE_OPTIONS);
  try {
    const lane = await laneOf(pipeline, options.senders ?? 5);
    await runRound(lane, options.warmUpTasks);
    const rounds: Round[] = [];
    for (let index = 0; index < options.rounds; index += 1) {
      rounds.push(await runRound(lane, options.tasks));
    }
    return summarize(options, lane, rounds);
  } finally {
    await pipeline.stop();
  }
}

async function laneOf(pipeline: LocalPipeline, senders: number): Promise<Lane> {
  const { sqs } = pipeline.clients;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'bench-raw' }),
  );
  const queue = pipeline.resources.queues.find((q) => q.priority === 'normal');
  const metrics = pipeline.metrics.get(demoFlaky.taskType);
  return {
    sqs,
    rawUrl: QueueUrl ?? '',
    taskUrl: queue?.url ?? '',
    completed: () => metrics?.totals.get('TaskCompleted')?.count ?? 0,
    senders,
  };
}

/** Wall time of a run, and this process's CPU time during it. */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Timings of one round. */
interface Round {
  readonly tasks: number;
  readonly send: Timing;
  readonly drain: Timing;
  readonly overlapped: Timing;
  readonly pipeline: Timing;
}

async function runRound(lane: Lane, tasks: number): Promise<Round> {
  const { send, drain } = await rawSequential(lane, tasks);
  const overlapped = await rawOverlapped(lane, tasks);
  const pipeline = await throughPipeline(lane, tasks);
  return { tasks, send, drain, overlapped, pipeline };
}

const DRAIN = {
  workers: demoFlaky.defaults.maxConcurrency,
  batchSize: demoFlaky.defaults.batchSize,
  deadlineMs: DEADLINE_MS,
};

async function rawSequential(lane: Lane, tasks: number) {
  const bodies = bodiesOf(tasks);
  const send = await timed(() =>
    sendAll(lane.sqs, lane.rawUrl, bodies, lane.senders),
  );
  const drained = await timed((stop) =>
    drain(lane.sqs, lane.rawUrl, tasks, { ...DRAIN, onDrained: stop }),
  );
  return { send, drain: drained };
}

function rawOverlapped(lane: Lane, tasks: number): Promise<Timing> {
  const bodies = bodiesOf(tasks);
  return timed((stop) =>
    Promise.all([
      sendAll(lane.sqs, lane.rawUrl, bodies, lane.senders),
      drain(lane.sqs, lane.rawUrl, tasks, { ...DRAIN, onDrained: stop }),
    ]),
  );
}

/**
 * From the first send until the last task's completion is counted. The
 * count rises once the status is final, just before the poller deletes
 * the batch, so the last batch's delete is not in the time.
 */
function throughPipeline(lane: Lane, tasks: number): Promise<Timing> {
  const bodies = bodiesOf(tasks);
  const target = lane.completed() + tasks;
  return timed(async () => {
    await sendAll(lane.sqs, lane.taskUrl, bodies, lane.senders);
    const deadline = Date.now() + DEADLINE_MS;
    while (lane.completed() < target) {
      if (Date.now() > deadline) throw new Error('pipeline did not finish');
      await sleep(5);
    }
  });
}

function bodiesOf(tasks: number): string[] {
  return Array.from({ length: tasks }, () => JSON.stringify(instantEnvelope()));
}

/**
 * Times `work` until it calls `stop`, or until it settles if it never
 * does: a drain stops the clock at its last delete, not when its idle
 * long polls come back.
 */
async function timed(
  work: (stop: () => void) => Promise<unknown>,
): Promise<Timing> {
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  let timing: Timing | undefined;
  const stop = () => {
    const cpu = process.cpuUsage(cpuBefore);
    const ms = performance.now() - startedAt;
    timing ??= { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  await work(stop);
  stop();
  return timing as Timing;
}

function summarize(
  options: ThroughputOptions,
  lane: Lane,
  rounds: Round[],
): ThroughputResult {
  const rate = (ms: (round: Round) => number) =>
    median(rounds.map((round) => perSecond(round.tasks, ms(round))));
  const busy = (timing: (round: Round) => Timing) =>
    median(rounds.map((round) => ratio(timing(round).cpuMs, timing(round).ms)));
  const rawSequentialRate = rate((r) => r.send.ms + r.drain.ms);
  const rawOverlapped = rate((r) => r.overlapped.ms);
  const ceiling = Math.max(rawSequentialRate, rawOverlapped);
  const pipeline = rate((r) => r.pipeline.ms);
  return {
    tasks: options.tasks,
    rounds: options.rounds,
    workers: DRAIN.workers,
    batchSize: DRAIN.batchSize,
    senders: lane.senders,
    rawSend: rate((r) => r.send.ms),
    rawDrain: rate((r) => r.drain.ms),
    rawSequential: rawSequentialRate,
    rawOverlapped,
    ceiling,
    pipeline,
    ratio: ratio(pipeline, ceiling),
    cpuBusy: {
      rawDrain: busy((r) => r.drain),
      rawOverlapped: busy((r) => r.overlapped),
      pipeline: busy((r) => r.pipeline),
    },
  };
}
