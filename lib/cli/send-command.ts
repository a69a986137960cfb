import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { builtInTasks } from '../../lambdas/tasks/index.ts';
import { PRIORITIES } from '../envelope.ts';
import { demoFlaky } from '../local/demo-tasks.ts';
import {
  localRateLimit,
  type RateLimitSource,
  rateLimitParameterName,
  ssmRateLimit,
} from '../ops/rate-limit.ts';
import {
  createProducer,
  SendBatchError,
  type SentTask,
  type TaskInput,
} from '../producer.ts';
import { createRegistry } from '../registry.ts';
import type { TaskModule } from '../task-module.ts';
import {
  type CliIo,
  EXIT,
  opsCommand,
  printJson,
  processIo,
  runWith,
  UsageError,
} from './command-kit.ts';
import {
  addControlOption,
  type ControlDeps,
  type ControlOptions,
  controlUrlOf,
  usingControlClients,
} from './control-target.ts';
import { addTargetOptions, type Target, usingTarget } from './target.ts';

/**
 * The task types `send` knows: the built-in ones and the demo's
 * `demo.flaky`, so it works against `tasklane local` as well as a stack.
 */
export const sendRegistry = createRegistry([
  ...builtInTasks,
  demoFlaky as TaskModule,
]);

interface SendOptions extends ControlOptions {
  readonly type?: string;
  readonly businessId?: string;
  readonly priority?: string;
  readonly timeoutMs?: number;
  readonly callbackUrl?: string;
  readonly payload?: Record<string, unknown>;
  readonly file?: string;
}

/** The task's flags: `--file` gives every field instead. */
const TASK_FLAGS = {
  type: '--type',
  businessId: '--business-id',
  priority: '--priority',
  timeoutMs: '--timeout-ms',
  callbackUrl: '--callback-url',
  payload: '--payload',
} as const;

const EXAMPLES = `
Examples:
  tasklane send --endpoint http://127.0.0.1:4566 --type demo.flaky \\
    --business-id demo-7 --payload '{"failTimes":1}'
  tasklane send --region eu-west-1 --file tasks.json   # an envelope or a list

The producer client fills id and createdAt, validates the envelope and the
payload of the task type, and refuses to fill a queue past 10,000 messages.
It keeps to the send-rate limit of \`tasklane throttle\`: the SSM parameter
/<prefix>/send-rate-limit on AWS, the control server in local mode. A limit
that cannot be read is warned about and does not stop the send.`;

/** `tasklane send`: sends tasks from flags or a file through the producer. */
export function sendCommand(deps: ControlDeps = {}): Command {
  const io = deps.io ?? processIo;
  const command = opsCommand('send', io)
    .description('send tasks, from flags or a JSON file, via the producer')
    .option('--type <taskType>', 'task type, e.g. order.notification')
    .option('--business-id <id>', 'id of what the task is about')
    .addOption(
      new Option('--priority <priority>', 'queue lane').choices(PRIORITIES),
    )
    .option('--timeout-ms <ms>', 'time budget of one attempt', milliseconds)
    .option('--callback-url <url>', 'where the final status is reported')
    .option('--payload <json>', 'payload as a JSON object', jsonObject)
    .option('--file <path>', 'JSON file: an envelope or a list of them')
    .addHelpText('after', EXAMPLES);
  return addControlOption(addTargetOptions(command)).action(
    runWith(io, (cmd) => runSend(cmd.opts<SendOptions>(), io, deps)),
  );
}

function milliseconds(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`must be a number of ms (got ${value})`);
  }
  return number;
}

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(
      `must be JSON (got ${value}): ${(error as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`must be a JSON object (got ${value})`);
  }
  return parsed as Record<string, unknown>;
}

async function runSend(
  options: SendOptions,
  io: CliIo,
  deps: ControlDeps,
): Promise<number> {
  const tasks = options.file
    ? await tasksFromFile(options)
    : [taskFromFlags(options)];
  const sent = await usingTarget(options, deps.clients, (target) =>
    withRateLimit(options, io, deps, (rateLimit) =>
      sendTasks(target, rateLimit, tasks),
    ),
  ).catch((error: unknown) => {
    // Some tasks went: name them too, so none is sent twice by a rerun.
    if (error instanceof SendBatchError) printSent(io, options, error.sent);
    throw error;
  });
  printSent(io, options, sent);
  return EXIT.ok;
}

async function sendTasks(
  target: Target,
  rateLimit: RateLimitSource,
  tasks: readonly TaskInput[],
): Promise<SentTask[]> {
  const producer = createProducer({
    sqs: target.clients.sqs,
    registry: sendRegistry,
    prefix: target.prefix,
    allowHttpCallbacks: target.local,
    rateLimit,
  });
  // One task alone: its errors name its fields without a list index.
  const [only] = tasks;
  return tasks.length === 1 && only
    ? [await producer.send(only)]
    : producer.sendBatch(tasks);
}

/**
 * Runs `work` with the send-rate limit of `tasklane throttle`: the control
 * server's in local mode, the SSM parameter on AWS. The producer reads it
 * before each batch, after validation, so an invalid task costs no read.
 */
async function withRateLimit<T>(
  options: SendOptions,
  io: CliIo,
  deps: ControlDeps,
  work: (rateLimit: RateLimitSource) => Promise<T>,
): Promise<T> {
  if (options.endpoint) {
    const controlUrl = controlUrlOf(options);
    const onError = warnUnread(io, `control server ${controlUrl}`);
    return work(localRateLimit({ controlUrl, onError }));
  }
  const name = rateLimitParameterName(options.prefix);
  return usingControlClients(options, deps, ({ ssm }) =>
    work(
      ssmRateLimit({
        ssm,
        prefix: options.prefix,
        onError: warnUnread(io, `SSM parameter ${name}`),
      }),
    ),
  );
}

/**
 * A limit that cannot be read (no control server, no ssm:GetParameter)
 * must not stop a send: one warning on standard error, and the last limit
 * read stays in force, which before any read is none.
 */
function warnUnread(io: CliIo, where: string): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    io.err(
      `tasklane send: warning: cannot read the send-rate limit from ` +
        `${where} (${causeOf(error)}); sending at the last limit read, ` +
        'none if none was read\n',
    );
  };
}

/** An error's message and its cause's: fetch gives the reason only there. */
function causeOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause ? `${messageOf(error)}: ${messageOf(cause)}` : messageOf(error);
}

function printSent(
  io: CliIo,
  options: SendOptions,
  sent: readonly SentTask[],
): void {
  if (options.json) {
    printJson(io, { sent });
    return;
  }
  for (const task of sent) io.out(`sent ${task.id} to ${task.queueName}\n`);
}

function taskFromFlags(options: SendOptions): TaskInput {
  if (!options.type || !options.businessId) {
    throw new UsageError(
      'send needs --type and --business-id, or --file with the tasks',
    );
  }
  return {
    taskType: options.type,
    businessId: options.businessId,
    payload: options.payload ?? {},
    ...(options.priority && { priority: options.priority }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.callbackUrl && { callbackUrl: options.callbackUrl }),
  } as TaskInput;
}

async function tasksFromFile(options: SendOptions): Promise<TaskInput[]> {
  const flags = Object.entries(TASK_FLAGS)
    .filter(([key]) => options[key as keyof typeof TASK_FLAGS] !== undefined)
    .map(([, flag]) => flag);
  if (flags.length > 0) {
    throw new UsageError(
      `--file takes every field from the file; drop ${flags.join(', ')}`,
    );
  }
  const path = options.file as string;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${messageOf(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--file ${path} is not JSON: ${messageOf(error)}`);
  }
  const tasks: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  if (tasks.length === 0) throw new UsageError(`--file ${path} has no task`);
  const bad = tasks.findIndex((t) => typeof t !== 'object' || t === null);
  if (bad >= 0) {
    throw new UsageError(
      `--file ${path}: task ${bad} is not a JSON object ` +
        `(got ${JSON.stringify(tasks[bad])})`,
    );
  }
  return tasks as TaskInput[];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
