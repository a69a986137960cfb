import { InvalidArgumentError, Option } from 'commander';
import {
  type ArchiveTarget,
  openArchive,
  parseArchiveTarget,
  purgeDeadLetters,
} from '../ops/archive.ts';
import {
  type CliIo,
  EXIT,
  opsCommand,
  printJson,
  runWith,
  wholeNumber,
} from './command-kit.ts';
import {
  type DlqOptions,
  deadLetterQueues,
  queueDepth,
  REASONS,
  sweepQueue,
  taskTypeOption,
} from './dlq-target.ts';
import { startProgress } from './progress.ts';
import {
  addTargetOptions,
  type ClientFactory,
  type Target,
  usingTarget,
} from './target.ts';

interface PurgeOptions extends DlqOptions {
  readonly type: string;
  readonly archive: ArchiveTarget;
  readonly reason?: string;
  readonly limit?: number;
}

const HELP = `
Nothing is deleted that is not archived first: each chunk of messages is
written (body and every attribute, one JSON line each) and stored durably,
then exactly those messages are deleted by their receipt handles. A failed
archive stops the purge and leaves the rest in the queue. A file is appended
to; on S3 each chunk is one object under <prefix>/<queue>/.

Example:
  tasklane dlq purge --endpoint http://127.0.0.1:4566 --type demo.flaky \\
    --reason INVALID --archive dead-letters.jsonl`;

/** `tasklane dlq purge`: archive dead letters, then delete them. */
export function purgeCommand(io: CliIo, clients: ClientFactory | undefined) {
  const command = opsCommand('purge', io)
    .description('archive dead-lettered tasks, then delete them')
    .requiredOption('--type <taskType>', 'the task type', taskTypeOption)
    .requiredOption(
      '--archive <file|s3://bucket/prefix>',
      'where every message is archived before it is deleted',
      archiveOption,
    )
    .addOption(
      new Option('--reason <reason>', 'only tasks of this reason').choices(
        REASONS,
      ),
    )
    .option('--limit <n>', 'purge at most n tasks', wholeNumber(1))
    .addHelpText('after', HELP);
  return addTargetOptions(command).action(
    runWith(io, (cmd) => runPurge(cmd.opts<PurgeOptions>(), io, clients)),
  );
}

function archiveOption(value: string): ArchiveTarget {
  try {
    return parseArchiveTarget(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

async function runPurge(
  options: PurgeOptions,
  io: CliIo,
  clients: ClientFactory | undefined,
): Promise<number> {
  const report = await usingTarget(options, clients, (target) =>
    purge(target, options, io),
  );
  if (options.json) {
    printJson(io, report);
  } else {
    io.out(
      `archived and deleted ${report.purged} of ${report.seen} dead ` +
        `letters from ${report.queue} to ${report.archive}\n` +
        `${report.left} left in ${report.queue}\n`,
    );
    for (const { taskId, reason } of report.failures) {
      io.out(`  archived, still in the queue: ${taskId}: ${reason}\n`);
    }
  }
  return report.failures.length > 0 ? EXIT.failure : EXIT.ok;
}

async function purge(target: Target, options: PurgeOptions, io: CliIo) {
  const [queue] = await deadLetterQueues(target, options.type);
  if (!queue) throw new Error(`no dead-letter queue of ${options.type}`);
  const sink = openArchive(options.archive, target.clients.s3, queue.name);
  const total = await queueDepth(target, queue.url);
  const bar = startProgress(io, options.json, 'purge', total);
  return purgeDeadLetters(
    { ...sweepQueue(target, queue.url), name: queue.name },
    sink,
    {
      select: options.reason ? (l) => l.reason === options.reason : undefined,
      limit: options.limit,
      onSeen: (count) => bar.advance(count),
    },
  ).finally(() => bar.stop());
}
