import type { Command } from 'commander';
import { emulatorAgeReader, unknownAge } from '../ops/queue-age.ts';
import {
  anyBreach,
  checkThresholds,
  DEFAULT_STATS_THRESHOLDS,
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
  type ClientFactory,
  type Target,
  type TargetOptions,
  usingTarget,
} from './target.ts';

interface StatsOptions extends TargetOptions {
  readonly depthThreshold: number;
  readonly ageThresholdMs: number;
}

const EXAMPLES = `
Examples:
  tasklane stats --endpoint http://127.0.0.1:4566
  tasklane stats --region eu-west-1 --profile ops --json

Age of the oldest message: locally read from the emulator without receiving
any message; on AWS it is the CloudWatch metric ApproximateAgeOfOldestMessage
(see the dashboard), shown here as "-".`;

/** `tasklane stats`: depth, in flight, delayed and age of every queue. */
export function statsCommand(deps: CommandDeps = {}): Command {
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
    runWith(io, (cmd) => runStats(cmd.opts<StatsOptions>(), io, deps.clients)),
  );
}

async function runStats(
  options: StatsOptions,
  io: CliIo,
  clients: ClientFactory | undefined,
): Promise<number> {
  const thresholds: StatsThresholds = {
    depth: options.depthThreshold,
    ageMs: options.ageThresholdMs,
  };
  const stats = await usingTarget(options, clients, async (target) =>
    checkThresholds(await collect(target), thresholds),
  );
  const breached = anyBreach(stats);
  if (options.json) {
    printJson(io, { thresholds, breached, queues: stats });
  } else {
    io.out(`${formatStats(stats, thresholds)}\n`);
  }
  return breached ? EXIT.breached : EXIT.ok;
}

async function collect(target: Target) {
  const queues = (await target.queues()).filter((q) => queueKind(q.name));
  const ageOf =
    target.local && target.options.endpoint
      ? emulatorAgeReader(target.options.endpoint)
      : unknownAge;
  const stats = await Promise.all(
    queues.map((queue) => readQueueStats(target.clients.sqs, queue, ageOf)),
  );
  return sortQueues(stats);
}
