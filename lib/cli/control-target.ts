/**
 * What `scale`, `throttle` and `verify` need beyond the shared target: the
 * Lambda and SSM clients on AWS, and the local control server's URL and
 * its JSON API in local mode.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONTROL_PORT } from '../local/control-server.ts';
import { type CommandDeps, UsageError } from './command-kit.ts';
import type { TargetOptions } from './target.ts';

/** The AWS clients of the control commands. */
export interface ControlClients {
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
}

/** Dependencies of the control commands; tests pass offline clients. */
export interface ControlDeps extends CommandDeps {
  /** @default clients for the region and profile of the options */
  readonly controlClients?: (options: TargetOptions) => ControlClients;
}

/** The target options and the control server's URL. */
export interface ControlOptions extends TargetOptions {
  readonly control?: string;
}

/** Lambda and SSM clients for the region and profile of the options. */
export function createControlClients(options: TargetOptions): ControlClients {
  const config = {
    ...(options.region && { region: options.region }),
    ...(options.profile && { profile: options.profile }),
  };
  return { lambda: new LambdaClient(config), ssm: new SSMClient(config) };
}

/** Runs work with the control clients, then closes them. */
export async function usingControlClients<T>(
  options: TargetOptions,
  deps: ControlDeps,
  work: (clients: ControlClients) => Promise<T>,
): Promise<T> {
  const clients = (deps.controlClients ?? createControlClients)(options);
  try {
    return await work(clients);
  } finally {
    clients.lambda.destroy();
    clients.ssm.destroy();
  }
}

/** Adds `--control <url>`, the local control server. */
export function addControlOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--control <url>',
      `local mode: the control server of \`tasklane local\` (default: the ` +
        `endpoint's host, port ${DEFAULT_CONTROL_PORT})`,
    )
      .env('TASKLANE_CONTROL_URL')
      .argParser(httpUrl),
  );
}

function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError(`must be an http(s) URL (got ${value})`);
  }
  return value;
}

/** The control server's URL: `--control`, else next to the endpoint. */
export function controlUrlOf(options: ControlOptions): string {
  if (options.control) return options.control;
  const endpoint = new URL(options.endpoint ?? 'http://127.0.0.1');
  return `${endpoint.protocol}//${endpoint.hostname}:${DEFAULT_CONTROL_PORT}`;
}

/**
 * One request to the control server. A 400 or 404 is the caller's input
 * (UsageError, exit 2); no answer at all names the likely cause.
 */
export async function controlRequest<T>(
  baseUrl: string,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<T> {
  const url = new URL(path, baseUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(
      `no control server answers at ${baseUrl}: is \`tasklane local\` ` +
        'running? (set --control if it serves elsewhere)',
      { cause: error },
    );
  }
  const answer = (await response.json()) as T & { error?: string };
  if (response.ok) return answer;
  const message = `${method} ${url.pathname}: ${answer.error}`;
  if (response.status === 400 || response.status === 404) {
    throw new UsageError(message);
  }
  throw new Error(`${message} (HTTP ${response.status})`);
}
