import { type Command, Option } from 'commander';
import {
  type MoveTaskStatus,
  startMoveTask,
  waitForMoveTask,
} from '../ops/move-task.ts';
import { type RedriveReport, redriveDeadLetters } from '../ops/redrive.ts';
import {
  type CliIo,
  EXIT,
  opsCommand,
  printJson,
  runWith,
  UsageError,
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
  type QueueRef,
  type Target,
  usingTarget,
} from './target.ts';

interface RedriveOptions extends DlqOptions {
  readonly type: string;
  readonly reason?: string;
  readonly limit?: number;
  /** Redrive by one SQS message move task into the normal queue. */
  readonly moveTask?: boolean;
  readonly wait: boolean;
}

/** How often a running message move task is read, in ms. */
const MOVE_TASK_POLL_MS = 2_000;

const HELP = `
Modes:
  per message (default, locally and on AWS): each task goes back to the task
    queue it came from (its tasklane.sourceQueue attribute), high or normal,
    its body unchanged: it is sent there, then deleted from the dead-letter
    queue, so every task is in one of the two at any time. The report counts
    every message seen: redriven, or left in the dead-letter queue.
  --move-task (AWS only, no --reason or --limit): one SQS message move task
    moves every message into the task type's NORMAL queue. Faster for large
    queues, but high-priority tasks lose their lane: they run from the normal
    queue, behind its backlog.

Examples:
  tasklane dlq redrive --endpoint http://127.0.0.1:4566 --type demo.flaky \\
    --reason RETRIES_EXHAUSTED --limit 100
  tasklane dlq redrive --region eu-west-1 --type data.backup --move-task`;

/** `tasklane dlq redrive`: dead-lettered tasks back to their queues. */
export function redriveCommand(io: CliIo, clients: ClientFactory | undefined) {
  const command = opsCommand('redrive', io)
    .description('move dead-lettered tasks back to their source queues')
    .requiredOption('--type <taskType>', 'the task type', taskTypeOption)
    .addOption(
      new Option('--reason <reason>', 'only tasks of this reason').choices(
        REASONS,
      ),
    )
    .option('--limit <n>', 'redrive at most n tasks', wholeNumber(1))
    .addOption(
      new Option(
        '--move-task',
        'AWS: everything by one SQS message move task into the normal ' +
          'queue; high-priority tasks lose their lane',
      ).conflicts(['reason', 'limit']),
    )
    .option('--no-wait', 'with --move-task: return once it has started')
    .addHelpText('after', HELP);
  return addTargetOptions(command).action(
    runWith(io, (cmd) => runRedrive(redriveOptions(cmd), io, clients)),
  );
}

/** The options, with the combinations commander cannot check refused. */
function redriveOptions(command: Command): RedriveOptions {
  const options = command.opts<RedriveOptions>();
  if (options.moveTask && options.endpoint !== undefined) {
    throw new UsageError(
      '--move-task works on AWS only; locally tasks move one by one',
    );
  }
  if (!options.moveTask && command.getOptionValueSource('wait') === 'cli') {
    throw new UsageError('--no-wait applies to --move-task only');
  }
  return options;
}

async function runRedrive(
  options: RedriveOptions,
  io: CliIo,
  clients: ClientFactory | undefined,
): Promise<number> {
  return usingTarget(options, clients, async (target) => {
    const [queue] = await deadLetterQueues(target, options.type);
    if (!queue) throw new Error(`no dead-letter queue of ${options.type}`);
    // The high and normal queues of a task type share one dead-letter
    // queue, and a move task has one destination (SQS returns to their
    // source only messages its redrive policy moved, not those the consumer
    // dead-lettered), so it would put every high-priority task in the
    // normal queue. Whether the dead-letter queue holds any from the high
    // queue is known only by receiving them, and once received they may as
    // well be sent to their own queue; a look first, then a move task,
    // would also miss those dead-lettered in between. So per message is the
    // default everywhere, exact and accounted for, and the move task runs
    // only when asked for, its cost to priority stated in the help.
    return options.moveTask
      ? byMoveTask(target, queue, options, io)
      : byMessage(target, queue, options, io);
  });
}

async function byMessage(
  target: Target,
  queue: QueueRef,
  options: RedriveOptions,
  io: CliIo,
): Promise<number> {
  const total = await queueDepth(target, queue.url);
  const bar = startProgress(io, options.json, 'redrive', total);
  const report = await redriveDeadLetters(
    {
      ...sweepQueue(target, queue.url),
      deadLetterQueue: queue,
      queueUrl: (name) => target.queueUrl(name),
    },
    {
      select: options.reason ? (l) => l.reason === options.reason : undefined,
      limit: options.limit,
      onSeen: (count) => bar.advance(count),
    },
  ).finally(() => bar.stop());
  if (options.json) printJson(io, { ...report, mode: 'per-message' });
  else printMessageReport(io, report);
  return report.failures.length > 0 ? EXIT.failure : EXIT.ok;
}

function printMessageReport(io: CliIo, report: RedriveReport): void {
  const to = Object.entries(report.destinations)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  io.out(
    `redrove ${report.redriven} of ${report.seen} dead letters from ` +
      `${report.queue}${to ? ` to ${to}` : ''}\n` +
      `${report.left} left in ${report.queue}\n`,
  );
  for (const { taskId, reason } of report.failures) {
    io.out(`  not redriven: ${taskId}: ${reason}\n`);
  }
}

async function byMoveTask(
  target: Target,
  queue: QueueRef,
  options: RedriveOptions,
  io: CliIo,
): Promise<number> {
  const { sqs } = target.clients;
  const destination = queue.name.replace(/-dlq$/, '-normal');
  const sourceArn = await target.queueArn(queue.url);
  const destinationArn = await target.queueArn(
    await target.queueUrl(destination),
  );
  const total = await queueDepth(target, queue.url);
  const taskHandle = await startMoveTask(sqs, sourceArn, destinationArn);
  let status: MoveTaskStatus = { status: 'RUNNING', moved: 0, toMove: total };
  if (options.wait) {
    const bar = startProgress(io, options.json, 'redrive', total);
    status = await waitForMoveTask(sqs, sourceArn, taskHandle, {
      pollMs: MOVE_TASK_POLL_MS,
      onStatus: (s) => bar.update(s.moved, s.toMove),
    }).finally(() => bar.stop());
  }
  const report = { queue: queue.name, mode: 'move-task', destination };
  if (options.json) {
    printJson(io, { ...report, taskHandle, ...status });
  } else {
    io.out(
      `message move task from ${queue.name} to ${destination}: ` +
        `${status.status}, ${status.moved} moved` +
        `${status.failureReason ? ` (${status.failureReason})` : ''}\n` +
        `task handle: ${taskHandle}\n` +
        'high-priority tasks among them run from the normal queue\n',
    );
  }
  const failed = ['FAILED', 'CANCELLED'].includes(status.status);
  return failed ? EXIT.failure : EXIT.ok;
}
