import {
  type EventSourceMappingConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  type ProvisionedPollerConfig,
  UpdateEventSourceMappingCommand,
  type UpdateEventSourceMappingCommandInput,
} from '@aws-sdk/client-lambda';
import { type Command, InvalidArgumentError } from 'commander';
import { type Priority, TaskTypeSchema } from '../envelope.ts';
import { taskQueueName } from '../queue-names.ts';
import {
  type CliIo,
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
  controlRequest,
  controlUrlOf,
  usingControlClients,
} from './control-target.ts';
import { addTargetOptions, type Target, usingTarget } from './target.ts';

/** Provisioned pollers of a high lane's mapping. */
export interface Pollers {
  readonly minimum: number;
  readonly maximum?: number;
}

interface ScaleOptions extends ControlOptions {
  readonly type: string;
  readonly maxConcurrency?: number;
  readonly provisionedPollers?: Pollers;
}

/** One setting changed, as printed and as `--json` gives it. */
export interface ScaleChange {
  readonly taskType: string;
  readonly lane: Priority;
  readonly setting: 'maximum concurrency' | 'provisioned pollers';
  readonly from?: string;
  readonly to: string;
  /** The event source mapping's UUID on AWS; `local` in local mode. */
  readonly mapping: string;
}

const EXAMPLES = `
Examples:
  tasklane scale --type order.notification --max-concurrency 50 \\
    --endpoint http://127.0.0.1:4566
  tasklane scale --type order.notification --provisioned-pollers 10:400 \\
    --region eu-west-1 --profile ops

Backlog runbook (R18): add consumers. On AWS --max-concurrency sets the
normal lane's mapping (ScalingConfig.MaximumConcurrency) and
--provisioned-pollers the high lane's (ProvisionedPollerConfig; a minimum
alone keeps the current maximum, raised to the minimum if below). Locally
the control server of \`tasklane local\` sets its pollers' concurrency;
provisioned pollers exist on AWS only.`;

/** `tasklane scale`: a task type's maximum concurrency or pollers. */
export function scaleCommand(deps: ControlDeps = {}): Command {
  const io = deps.io ?? processIo;
  const command = opsCommand('scale', io)
    .description(
      "change a task type's maximum concurrency (normal lane) or " +
        'provisioned pollers (high lane): add consumers to clear a backlog',
    )
    .requiredOption('--type <taskType>', 'task type, e.g. order.notification')
    .option(
      '--max-concurrency <n>',
      'concurrent executions of the normal lane, 2-1000',
      maxConcurrency,
    )
    .option(
      '--provisioned-pollers <min[:max]>',
      'event pollers of the high lane: minimum 2-200, maximum 2-2000',
      pollers,
    )
    .addHelpText('after', EXAMPLES);
  return addControlOption(addTargetOptions(command)).action(
    runWith(io, (cmd) => runScale(cmd.opts<ScaleOptions>(), io, deps)),
  );
}

/** Parses `--max-concurrency`: whole, 2-1000. */
export function maxConcurrency(value: string): number {
  return whole(value, 2, 1000, 'concurrent executions');
}

/** Parses `--provisioned-pollers`: `min` or `min:max`, min <= max. */
export function pollers(value: string): Pollers {
  const [min, max, extra] = value.split(':');
  if (extra !== undefined || !min) {
    throw new InvalidArgumentError(
      `must be <min> or <min>:<max> event pollers (got ${value})`,
    );
  }
  const minimum = whole(min, 2, 200, 'event pollers (minimum)');
  if (max === undefined) return { minimum };
  const maximum = whole(max, 2, 2000, 'event pollers (maximum)');
  if (maximum < minimum) {
    throw new InvalidArgumentError(
      `the maximum must be from the minimum ${minimum} to 2000 event ` +
        `pollers (got ${value})`,
    );
  }
  return { minimum, maximum };
}

function whole(value: string, min: number, max: number, unit: string) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new InvalidArgumentError(
      `must be a whole number of ${unit} from ${min} to ${max} ` +
        `(got ${value})`,
    );
  }
  return number;
}

async function runScale(
  options: ScaleOptions,
  io: CliIo,
  deps: ControlDeps,
): Promise<number> {
  checkRequest(options);
  const changes = options.endpoint
    ? await scaleLocal(options)
    : await usingTarget(options, deps.clients, (target) =>
        usingControlClients(options, deps, ({ lambda }) =>
          scaleOnAws(options, target, lambda),
        ),
      );
  if (options.json) printJson(io, { changes });
  else for (const change of changes) io.out(`${describe(change)}\n`);
  return 0;
}

function checkRequest(options: ScaleOptions): void {
  const type = TaskTypeSchema.safeParse(options.type);
  if (!type.success) {
    throw new UsageError(
      `--type ${type.error.issues[0]?.message} (got ${options.type})`,
    );
  }
  if (!options.maxConcurrency && !options.provisionedPollers) {
    throw new UsageError(
      'give --max-concurrency <n> and/or --provisioned-pollers <min[:max]>',
    );
  }
  if (options.endpoint && options.provisionedPollers) {
    throw new UsageError(
      '--provisioned-pollers applies to AWS only: the local pollers have ' +
        'no provisioned mode; use --max-concurrency',
    );
  }
}

async function scaleLocal(options: ScaleOptions): Promise<ScaleChange[]> {
  const url = controlUrlOf(options);
  const { maxConcurrency: before } = await controlRequest<{
    maxConcurrency: Record<string, number>;
  }>(url, 'GET', '/config');
  const path = `/scale/${encodeURIComponent(options.type)}`;
  const after = await controlRequest<{ maxConcurrency: number }>(
    url,
    'PUT',
    path,
    { maxConcurrency: options.maxConcurrency },
  );
  const from = before[options.type];
  return (['high', 'normal'] as const).map((lane) => ({
    taskType: options.type,
    lane,
    setting: 'maximum concurrency',
    from: from === undefined ? undefined : String(from),
    to: String(after.maxConcurrency),
    mapping: 'local',
  }));
}

/**
 * Finds every mapping first, so a missing one changes nothing; then sets
 * the normal lane's maximum concurrency and the high lane's pollers.
 */
async function scaleOnAws(
  options: ScaleOptions,
  target: Target,
  lambda: LambdaClient,
): Promise<ScaleChange[]> {
  const { type, maxConcurrency: max, provisionedPollers: wanted } = options;
  const normal = max && (await mappingOf(target, lambda, type, 'normal'));
  const high = wanted && (await mappingOf(target, lambda, type, 'high'));
  const changes: ScaleChange[] = [];
  if (normal && max) {
    const from = normal.ScalingConfig?.MaximumConcurrency;
    await update(lambda, normal, {
      ScalingConfig: { MaximumConcurrency: max },
    });
    changes.push(change(type, 'normal', normal, from, max));
  }
  if (high && wanted) {
    const current = high.ProvisionedPollerConfig;
    const config = pollerConfig(wanted, current?.MaximumPollers);
    await update(lambda, high, { ProvisionedPollerConfig: config });
    changes.push(change(type, 'high', high, shown(current), shown(config)));
  }
  return changes;
}

/** A minimum alone keeps the current maximum (200 by default), or more. */
function pollerConfig(wanted: Pollers, currentMaximum = 200) {
  return {
    MinimumPollers: wanted.minimum,
    MaximumPollers: wanted.maximum ?? Math.max(wanted.minimum, currentMaximum),
  };
}

function shown(config: ProvisionedPollerConfig | undefined) {
  return config && `${config.MinimumPollers}-${config.MaximumPollers}`;
}

/** The one mapping that reads a task type's queue of a priority. */
async function mappingOf(
  target: Target,
  lambda: LambdaClient,
  taskType: string,
  priority: Priority,
): Promise<EventSourceMappingConfiguration> {
  const queue = taskQueueName(target.prefix, taskType, priority);
  const arn = await target.queueArn(await target.queueUrl(queue));
  const { EventSourceMappings = [] } = await lambda.send(
    new ListEventSourceMappingsCommand({ EventSourceArn: arn }),
  );
  const [mapping, ...more] = EventSourceMappings;
  if (!mapping?.UUID || more.length > 0) {
    throw new Error(
      `${EventSourceMappings.length} event source mappings read ${queue}; ` +
        'expected exactly one',
    );
  }
  return mapping;
}

async function update(
  lambda: LambdaClient,
  mapping: EventSourceMappingConfiguration,
  settings: Omit<UpdateEventSourceMappingCommandInput, 'UUID'>,
): Promise<void> {
  await lambda.send(
    new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ...settings }),
  );
}

function change(
  taskType: string,
  lane: Priority,
  mapping: EventSourceMappingConfiguration,
  from: number | string | undefined,
  to: number | string | undefined,
): ScaleChange {
  return {
    taskType,
    lane,
    setting: lane === 'normal' ? 'maximum concurrency' : 'provisioned pollers',
    from: from === undefined ? undefined : String(from),
    to: String(to),
    mapping: mapping.UUID as string,
  };
}

function describe(change: ScaleChange): string {
  const from = change.from === undefined ? '' : `${change.from} -> `;
  const where =
    change.mapping === 'local' ? 'local pollers' : `mapping ${change.mapping}`;
  return (
    `${change.taskType} ${change.lane} lane: ${change.setting} ` +
    `${from}${change.to} (${where})`
  );
}
