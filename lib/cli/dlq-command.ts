import type { Command } from 'commander';
import {
  type DeadLetterRecord,
  deadLetterJson,
  formatDeadLetter,
  formatGroups,
  groupByReason,
  type ReasonGroup,
} from '../ops/dead-letters.ts';
import { peekDeadLetters } from '../ops/dlq-queue.ts';
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
import { purgeCommand } from './dlq-purge-command.ts';
import { redriveCommand } from './dlq-redrive-command.ts';
import {
  type DlqOptions,
  deadLetterQueues,
  sweepQueue,
  taskTypeOption,
} from './dlq-target.ts';
import {
  addTargetOptions,
  type ClientFactory,
  type Target,
  usingTarget,
} from './target.ts';

interface ListOptions extends DlqOptions {
  readonly limit: number;
}

/** Dead letters a listing reads per queue unless told otherwise. */
export const DEFAULT_LIST_LIMIT = 1_000;

/**
 * `tasklane dlq`: list, show, redrive and purge dead-lettered tasks. Every
 * read leaves the messages in their queue; purge deletes only what it has
 * archived.
 */
export function dlqCommand(deps: CommandDeps = {}): Command {
  const io = deps.io ?? processIo;
  return opsCommand('dlq', io)
    .description('inspect, redrive and purge dead-lettered tasks')
    .addCommand(listCommand(io, deps.clients))
    .addCommand(showCommand(io, deps.clients))
    .addCommand(redriveCommand(io, deps.clients))
    .addCommand(purgeCommand(io, deps.clients));
}

function listCommand(io: CliIo, clients: ClientFactory | undefined) {
  const command = opsCommand('list', io)
    .description('dead-lettered tasks grouped by reason and error code')
    .option('--type <taskType>', 'only this task type', taskTypeOption)
    .option(
      '--limit <n>',
      'most dead letters read per queue',
      wholeNumber(1),
      DEFAULT_LIST_LIMIT,
    )
    .addHelpText(
      'after',
      '\nExample:\n  tasklane dlq list --endpoint http://127.0.0.1:4566',
    );
  return addTargetOptions(command).action(
    runWith(io, (cmd) => runList(cmd.opts<ListOptions>(), io, clients)),
  );
}

async function runList(
  options: ListOptions,
  io: CliIo,
  clients: ClientFactory | undefined,
): Promise<number> {
  const listed = await usingTarget(options, clients, async (target) => {
    const peeks = [];
    for (const queue of await deadLetterQueues(target, options.type)) {
      const sweep = sweepQueue(target, queue.url);
      const peek = await peekDeadLetters(sweep, { limit: options.limit });
      peeks.push({ queue: queue.name, ...peek });
    }
    return peeks;
  });
  const queues = listed.map(({ queue, letters, complete }) => ({
    queue,
    total: letters.length,
    complete,
    reasons: groupByReason(letters),
  }));
  if (options.json) printJson(io, { queues });
  else for (const queue of queues) printQueue(io, queue);
  return EXIT.ok;
}

function printQueue(
  io: CliIo,
  listed: {
    queue: string;
    total: number;
    complete: boolean;
    reasons: ReasonGroup[];
  },
): void {
  const { queue, total, complete, reasons } = listed;
  io.out(
    total === 0
      ? `${queue}: no dead letters\n`
      : `${formatGroups(queue, reasons)}\n`,
  );
  if (!complete) io.out(`  (the first ${total} only: raise --limit)\n`);
}

function showCommand(io: CliIo, clients: ClientFactory | undefined) {
  const command = opsCommand('show', io)
    .description('one dead-lettered task: reason, attempts, error history')
    .argument('<taskId>', "the task's id (or the message id)")
    .option('--type <taskType>', 'look in this task type only', taskTypeOption);
  return addTargetOptions(command).action(
    runWith(io, (cmd) =>
      runShow(cmd.args[0] ?? '', cmd.opts<DlqOptions>(), io, clients),
    ),
  );
}

async function runShow(
  taskId: string,
  options: DlqOptions,
  io: CliIo,
  clients: ClientFactory | undefined,
): Promise<number> {
  const found = await usingTarget(options, clients, (target) =>
    findDeadLetter(target, options.type, taskId),
  );
  if (!found) {
    const where = options.type ? `of ${options.type}` : 'of the target';
    throw new Error(`task ${taskId} is in no dead-letter queue ${where}`);
  }
  if (options.json) {
    printJson(io, { queue: found.queue, ...deadLetterJson(found.letter) });
  } else {
    io.out(`${formatDeadLetter(found.queue, found.letter)}\n`);
  }
  return EXIT.ok;
}

/** Looks through the dead-letter queues for a task; leaves all in place. */
async function findDeadLetter(
  target: Target,
  type: string | undefined,
  taskId: string,
): Promise<{ queue: string; letter: DeadLetterRecord } | undefined> {
  const wanted = (l: DeadLetterRecord) =>
    l.taskId === taskId || l.messageId === taskId;
  for (const queue of await deadLetterQueues(target, type)) {
    const sweep = sweepQueue(target, queue.url);
    const { letters } = await peekDeadLetters(sweep, { until: wanted });
    const letter = letters.find(wanted);
    if (letter) return { queue: queue.name, letter };
  }
  return undefined;
}
