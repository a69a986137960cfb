import {
  GetParameterCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { type Command, InvalidArgumentError } from 'commander';
import {
  parseRateLimit,
  RATE_LIMIT_OFF,
  RATE_LIMIT_RANGE,
  rateLimitParameterName,
} from '../ops/rate-limit.ts';
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
import { addTargetOptions } from './target.ts';

interface ThrottleOptions extends ControlOptions {
  readonly rate?: number;
  readonly off?: boolean;
}

/** The limit in force after the command, and where it is kept. */
export interface ThrottleState {
  /** Tasks per second per producer; null for no limit. */
  readonly rate: number | null;
  /** `ssm:<parameter name>` or `local:<control server URL>`. */
  readonly source: string;
  readonly changed: boolean;
}

const EXAMPLES = `
Examples:
  tasklane throttle --rate 50 --region eu-west-1   # each producer: 50 tasks/s
  tasklane throttle --off --endpoint http://127.0.0.1:4566
  tasklane throttle --endpoint http://127.0.0.1:4566   # show the limit

Backlog runbook (R18): lower the send rate. On AWS the limit is the SSM
parameter /<prefix>/send-rate-limit; locally the control server of
\`tasklane local\` holds it. \`tasklane send\`, the local demo, the HTTPS
ingress (per warm instance: 429 with Retry-After over the limit) and
producer clients created with rateLimit: ssmRateLimit(...) or
localRateLimit(...) read it (on AWS at most every 10 s) and keep to it.
Senders that call SQS or EventBridge directly do not.`;

/** `tasklane throttle`: sets, clears or shows the send-rate limit. */
export function throttleCommand(deps: ControlDeps = {}): Command {
  const io = deps.io ?? processIo;
  const { min, max } = RATE_LIMIT_RANGE;
  const command = opsCommand('throttle', io)
    .description(
      'set, clear or show the send-rate limit producers honour: lower the ' +
        'send rate to clear a backlog',
    )
    .option(
      '--rate <tasks-per-second>',
      `tasks per second each producer may send, ${min}-${max}`,
      rate,
    )
    .option('--off', 'remove the limit')
    .addHelpText('after', EXAMPLES);
  return addControlOption(addTargetOptions(command)).action(
    runWith(io, (cmd) => runThrottle(cmd.opts<ThrottleOptions>(), io, deps)),
  );
}

/** Parses `--rate`: tasks per second within RATE_LIMIT_RANGE. */
export function rate(value: string): number {
  const { min, max } = RATE_LIMIT_RANGE;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new InvalidArgumentError(
      `must be a number of tasks per second from ${min} to ${max} ` +
        `(got ${value})`,
    );
  }
  return number;
}

async function runThrottle(
  options: ThrottleOptions,
  io: CliIo,
  deps: ControlDeps,
): Promise<number> {
  if (options.rate !== undefined && options.off) {
    throw new UsageError('give --rate <tasks-per-second> or --off, not both');
  }
  const wanted = options.off ? null : options.rate;
  const state = options.endpoint
    ? await throttleLocal(controlUrlOf(options), wanted)
    : await usingControlClients(options, deps, ({ ssm }) =>
        throttleOnAws(ssm, rateLimitParameterName(options.prefix), wanted),
      );
  if (options.json) printJson(io, state);
  else io.out(`${describe(state)}\n`);
  return 0;
}

/** `wanted`: a rate, null to clear, undefined to only read. */
async function throttleLocal(
  url: string,
  wanted: number | null | undefined,
): Promise<ThrottleState> {
  const { rate } =
    wanted === undefined
      ? await controlRequest<{ rate: number | null }>(url, 'GET', '/throttle')
      : await controlRequest<{ rate: number | null }>(url, 'PUT', '/throttle', {
          rate: wanted,
        });
  return { rate, source: `local:${url}`, changed: wanted !== undefined };
}

async function throttleOnAws(
  ssm: SSMClient,
  name: string,
  wanted: number | null | undefined,
): Promise<ThrottleState> {
  const source = `ssm:${name}`;
  if (wanted === undefined) {
    return {
      rate: (await readParameter(ssm, name)) ?? null,
      source,
      changed: false,
    };
  }
  await ssm.send(
    new PutParameterCommand({
      Name: name,
      Value: wanted === null ? RATE_LIMIT_OFF : String(wanted),
      Type: 'String',
      Overwrite: true,
      Description:
        `tasks per second each tasklane producer may send, or ` +
        `${RATE_LIMIT_OFF}; set by tasklane throttle`,
    }),
  );
  return { rate: wanted, source, changed: true };
}

async function readParameter(
  ssm: SSMClient,
  name: string,
): Promise<number | undefined> {
  try {
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name }),
    );
    return parseRateLimit(Parameter?.Value);
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

function describe(state: ThrottleState): string {
  const limit =
    state.rate === null
      ? 'off (no limit)'
      : `${state.rate} tasks/s per producer`;
  const verb = state.changed ? 'set to' : 'is';
  return `send-rate limit ${verb} ${limit} (${state.source})`;
}
