import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Command } from 'commander';
import {
  AGE_LOOKBACK_MINUTES,
  cloudWatchAges,
  emulatorAgeReader,
} from '../ops/queue-age.ts';
import {
  type AgeReader,
  type AgeSource,
  anyBreach,
  checkThresholds,
  DEFAULT_STATS_THRESHOLDS,
  describeAgeSource,
  formatStats,
  queueKind,
  readQueueStats,
  type StatsThresholds,
  sortQueues,
} from '../ops/stats.ts';
import {
  type CliIo,
  type CommandDeps,
  EXIT,
  opsCommand,
  printJson,
  processIo,
  runWith,
  wholeNumber,
} from './command-kit.ts';
import {
  addTargetOptions,
  awsClientConfig,
  type QueueRef,
  type Target,
  type TargetOptions,
  usingTarget,
} from './target.ts';

/** Makes the CloudWatch client that reads ages on AWS. */
export type CloudWatchFactory = (options: TargetOptions) => CloudWatchClient;

/** What `tasklane stats` may be given; tests pass offline clients. */
export interface StatsDeps extends CommandDeps {
  /** @default a client with the target's region and profile */
  readonly cloudwatch?: CloudWatchFactory;
}

interface StatsOptions extends TargetOptions {
  readonly depthThreshold: number;
  readonly ageThresholdMs: number;
}

const EXAMPLES = `
Examples:
  tasklane stats --endpoint http://127.0.0.1:4566
  tasklane stats --region eu-west-1 --profile ops --json

Age of the oldest message: locally read from the emulator without receiving
any message. On AWS it is the newest datapoint of the CloudWatch metric
ApproximateAgeOfOldestMessage (AWS/SQS, Maximum per minute) of the last
${AGE_LOOKBACK_MINUTES} minutes, read with one GetMetricData request (cloudwatch:GetMetricData
permission); it lags a few minutes, and "-" means no datapoint. The footer
and the JSON field "age" say where the ages came from and as of when.`;

/** `tasklane stats`: depth, in flight, delayed and age of every queue. */
export function statsCommand(deps: StatsDeps = {}): Command {
  const io = deps.io ?? processIo;
  const command = opsCommand('stats', io)
    .description(
      'show each queue: depth, in flight, delayed, age of the oldest ' +
        'message, dead letters; mark the spec thresholds (R18, R19)',
    )
    .option(
      '--depth-threshold <messages>',
      'mark a task queue holding more visible messages (R18)',
      wholeNumber(0),
      DEFAULT_STATS_THRESHOLDS.depth,
    )
    .option(
      '--age-threshold-ms <ms>',
      'mark a task queue whose oldest message is older (R19)',
      wholeNumber(0),
      DEFAULT_STATS_THRESHOLDS.ageMs,
    )
    .addHelpText('after', EXAMPLES);
  return addTargetOptions(command).action(
    runWith(io, (cmd) => runStats(cmd.opts<StatsOptions>(), io, deps)),
  );
}

/** A CloudWatch client of the same region and credentials as the rest. */
export function createCloudWatchClient(
  options: TargetOptions,
): CloudWatchClient {
  return new CloudWatchClient(awsClientConfig(options));
}

async function runStats(
  options: StatsOptions,
  io: CliIo,
  deps: StatsDeps,
): Promise<number> {
  const thresholds: StatsThresholds = {
    depth: options.depthThreshold,
    ageMs: options.ageThresholdMs,
  };
  const cloudwatch = deps.cloudwatch ?? createCloudWatchClient;
  const { stats, age } = await usingTarget(options, deps.clients, (target) =>
    collect(target, cloudwatch),
  );
  const checked = checkThresholds(stats, thresholds);
  const breached = anyBreach(checked);
  if (age.source === 'cloudwatch' && age.error) {
    io.err(`tasklane stats: ${describeAgeSource(age)}\n`);
  }
  if (options.json) {
    printJson(io, { thresholds, breached, age, queues: checked });
  } else {
    io.out(`${formatStats(checked, thresholds, age)}\n`);
  }
  return breached ? EXIT.breached : EXIT.ok;
}

async function collect(target: Target, cloudwatch: CloudWatchFactory) {
  const queues = (await target.queues()).filter((q) => queueKind(q.name));
  const { reader, source } = await ages(target, queues, cloudwatch);
  const stats = await Promise.all(
    queues.map((queue) => readQueueStats(target.clients.sqs, queue, reader)),
  );
  return { stats: sortQueues(stats), age: source };
}

/** The emulator's ages locally, CloudWatch's on AWS. */
async function ages(
  target: Target,
  queues: readonly QueueRef[],
  makeCloudWatch: CloudWatchFactory,
): Promise<{ reader: AgeReader; source: AgeSource }> {
  const { endpoint } = target.options;
  if (target.local && endpoint) {
    return { reader: emulatorAgeReader(endpoint), source: EMULATOR };
  }
  const client = makeCloudWatch(target.options);
  try {
    return await cloudWatchAges(
      client,
      queues.map((queue) => queue.name),
    );
  } finally {
    client.destroy();
  }
}

const EMULATOR: AgeSource = { source: 'emulator' };
