import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ValidationError } from '../errors.ts';
import type { OutboxSource } from '../loadtest/collect.ts';
import { defaultSenders } from '../loadtest/pacing.ts';
import {
  DEFAULT_MIX,
  type LoadtestPlan,
  type MixEntry,
  parseMix,
  type TaskTemplate,
} from '../loadtest/plan.ts';
import { formatSummary, writeResultFiles } from '../loadtest/report.ts';
import { runLoadtest } from '../loadtest/runner.ts';
import { resourceNames } from '../queue-names.ts';
import {
  type CliIo,
  type CommandDeps,
  EXIT,
  opsCommand,
  printJson,
  processIo,
  runWith,
  UsageError,
  wholeNumber,
} from './command-kit.ts';
import { startProgress } from './progress.ts';
import { addTargetOptions, type TargetOptions, usingTarget } from './target.ts';

/** Exit code of a run that worked and missed a requirement. */
export const EXIT_REQUIREMENT_FAILED = 5;

/** Where local mode's DynamoDB listens unless told otherwise. */
export const DEFAULT_DYNAMODB_ENDPOINT = 'http://127.0.0.1:4567';

interface LoadtestOptions extends TargetOptions {
  readonly rate: number;
  readonly duration: number;
  readonly mix?: MixEntry[];
  readonly highShare: number;
  readonly failShare: number;
  readonly poisonShare: number;
  readonly senders?: number;
  readonly wait: number;
  readonly warmup: number;
  readonly templates?: string;
  readonly out: string;
  readonly tableName?: string;
  readonly dynamodbEndpoint: string;
}

/** Makes the DynamoDB client the outbox is read with; tests pass one. */
export type OutboxClientFactory = (
  options: TargetOptions & { dynamodbEndpoint?: string },
) => DynamoDBDocumentClient;

/** What `loadtestCommand` may be given. */
export interface LoadtestCommandDeps extends CommandDeps {
  /** @default a client for the DynamoDB endpoint, or for AWS */
  readonly dynamodb?: OutboxClientFactory;
}

const HELP = `
Sends tasks at --rate for --duration in batches of 10 per queue, waits for
each task's final status in the status outbox, then prints throughput,
send→done latency p50/p95/p99/max, the failure rate, and pass or fail
against R14 (p99 ≤ 500 ms, over tasks that succeeded on their first
execution: injected failures wait for their retries by design) and R15
(10,000 messages per second on one queue). Writes <out>/loadtest-<time>.json
and a chart, <out>/loadtest-<time>.html. A freshly started pipeline is
slow for its first seconds: --warmup sends at the rate first and waits
for those tasks to end; they are not measured.

Injected failures are demo.flaky tasks: --fail-share fail once and succeed
on retry, --poison-share fail every time and end in the dead-letter queue.
demo.flaky exists only under \`tasklane local\` with its demo; on AWS name
deployed task types with --mix and give their tasks with --templates, a
JSON file: { "<taskType>": { "businessId": "...", "payload": { ... } } }.

Examples:
  tasklane loadtest --endpoint http://127.0.0.1:4566 --rate 150 --duration 10 \\
    --warmup 5
  tasklane loadtest --endpoint http://127.0.0.1:4566 --fail-share 0.05 \\
    --poison-share 0.01 --high-share 0.2
  tasklane loadtest --region eu-west-1 --mix order.notification=1 \\
    --templates tasks.json --rate 10000 --duration 60

Exit codes of loadtest:
  0  R14 and R15 pass and every task reached a final status
  5  a requirement failed, or a task had no final status within --wait`;

/**
 * `tasklane loadtest`: the monthly stress test (R22) against local mode or
 * a deployed stack.
 *
 * @example
 * program.addCommand(loadtestCommand());
 */
export function loadtestCommand(deps: LoadtestCommandDeps = {}): Command {
  const io = deps.io ?? processIo;
  const command = opsCommand('loadtest', io)
    .description('send tasks at a rate, then measure throughput and latency')
    .option('--rate <tasks/s>', 'target send rate', positive, 100)
    .option('--duration <s>', 'seconds to send for', positive, 10)
    .option(
      '--mix <type=weight,...>',
      'task types (default: demo.flaky=1)',
      mix,
    )
    .option('--high-share <0-1>', 'share of high priority', share, 0)
    .option('--fail-share <0-1>', 'share failing once, then ok', share, 0)
    .option('--poison-share <0-1>', 'share ending dead-lettered', share, 0)
    .option(
      '--senders <n>',
      'batches in flight (default: by rate)',
      wholeNumber(1),
    )
    .option('--wait <s>', 'longest wait for final statuses', positive, 120)
    .option('--warmup <s>', 'seconds sent first, unmeasured', seconds, 0)
    .option('--templates <file>', 'JSON: task per type for --mix')
    .option(
      '--out <dir>',
      'directory of the result files',
      './loadtest-results',
    )
    .option(
      '--table-name <name>',
      'status outbox (default: <prefix>-status-outbox)',
    )
    .addOption(
      new Option('--dynamodb-endpoint <url>', 'local mode: DynamoDB endpoint')
        .default(DEFAULT_DYNAMODB_ENDPOINT)
        .env('TASKLANE_DYNAMODB_ENDPOINT'),
    )
    .addHelpText('after', HELP);
  return addTargetOptions(command).action(
    runWith(io, (cmd) => runCommand(cmd.opts<LoadtestOptions>(), io, deps)),
  );
}

async function runCommand(
  options: LoadtestOptions,
  io: CliIo,
  deps: LoadtestCommandDeps,
): Promise<number> {
  const plan = await planOf(options);
  const outboxClient = (deps.dynamodb ?? createOutboxClient)(options);
  const outbox: OutboxSource = {
    dynamodb: outboxClient,
    tableName:
      options.tableName ?? resourceNames(options.prefix).statusOutboxTable,
  };
  const progress = (label: string, total: number) =>
    startProgress(io, options.json, label, total);
  const result = await usingTarget(options, deps.clients, (target) =>
    runLoadtest(plan, { target, outbox, progress }),
  ).finally(() => outboxClient.destroy());

  const files = await writeResultFiles(options.out, result);
  if (options.json) {
    printJson(io, { ...result, files });
  } else {
    io.out(formatSummary(result));
    io.out(`  files          ${files.json}\n                 ${files.html}\n`);
  }
  return result.pass ? EXIT.ok : EXIT_REQUIREMENT_FAILED;
}

async function planOf(options: LoadtestOptions): Promise<LoadtestPlan> {
  const local = options.endpoint !== undefined;
  if (!options.mix && !local) {
    throw new UsageError(
      '--mix is required on AWS: demo.flaky, the default, exists only ' +
        'under `tasklane local`',
    );
  }
  return {
    rate: options.rate,
    durationSeconds: options.duration,
    mix: options.mix ?? DEFAULT_MIX,
    highShare: options.highShare,
    failShare: options.failShare,
    poisonShare: options.poisonShare,
    senders: options.senders ?? defaultSenders(options.rate),
    waitSeconds: options.wait,
    warmupSeconds: options.warmup,
    templates: options.templates ? await readTemplates(options.templates) : {},
  };
}

/** Reads `--templates`: an object of task type to businessId and payload. */
async function readTemplates(
  path: string,
): Promise<Record<string, TaskTemplate>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--templates ${path}: ${(error as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed)) {
    throw new UsageError(`--templates ${path}: must be a JSON object`);
  }
  for (const [type, template] of Object.entries(parsed)) {
    if (!isObject(template) || !isObject(template.payload)) {
      throw new UsageError(
        `--templates ${path}: ${type} must be { "businessId"?, "payload": {} }`,
      );
    }
  }
  return parsed as Record<string, TaskTemplate>;
}

// Emulators accept any credentials; fixed ones keep the SDK from searching
// the machine's credential chain.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The client the outbox is read with: on the DynamoDB endpoint in local
 * mode, else in the region with the profile's credentials.
 */
export function createOutboxClient(
  options: TargetOptions & { dynamodbEndpoint?: string },
): DynamoDBDocumentClient {
  const config = options.endpoint
    ? {
        endpoint: options.dynamodbEndpoint ?? DEFAULT_DYNAMODB_ENDPOINT,
        region: options.region ?? 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
      }
    : {
        ...(options.region && { region: options.region }),
        ...(options.profile && { profile: options.profile }),
      };
  return DynamoDBDocumentClient.from(new DynamoDBClient(config));
}

function positive(value: string): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (!(number > 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`must be a number above 0 (got ${value})`);
  }
  return number;
}

function seconds(value: string): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (!(number >= 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`must be 0 s or more (got ${value})`);
  }
  return number;
}

function share(value: string): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (!(number >= 0 && number <= 1)) {
    throw new InvalidArgumentError(
      `must be a share from 0 to 1 (got ${value})`,
    );
  }
  return number;
}

function mix(value: string): MixEntry[] {
  try {
    return parseMix(value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new InvalidArgumentError(error.message);
  }
}
