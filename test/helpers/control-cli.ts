/**
 * Running the control commands (scale, throttle, verify) in tests: as a
 * child process, or in this process with a recording `CliIo` and AWS
 * clients that answer from a script and never reach the network.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Command } from 'commander';
import type { CliIo } from '../../lib/cli/command-kit.ts';
import type { ControlClients } from '../../lib/cli/control-target.ts';
import type { TargetClients } from '../../lib/cli/target.ts';

const root = new URL('../..', import.meta.url).pathname;

/** What a command printed and how it ended. */
export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | undefined;
}

/** Runs `tasklane <args>` as a child process, from the repository root. */
export async function runTasklane(args: readonly string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['bin/tasklane.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { stdout, stderr, code: code ?? undefined };
}

/** Thrown by a recording io's `abort`, as `process.exit` would end. */
class Aborted extends Error {}

/** A CliIo that records what is written and the exit code. */
export function recordingIo(): CliIo & { run(): CliRun } {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  return {
    interactive: false,
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    done: (c) => {
      code = c;
    },
    abort: (c) => {
      code = c;
      throw new Aborted(`exit ${c}`);
    },
    run: () => ({ stdout, stderr, code }),
  };
}

/**
 * Runs a command built with a recording io, in this process; a usage
 * error ends it with its code as in a child process.
 */
export async function runInProcess(
  command: Command,
  io: ReturnType<typeof recordingIo>,
  args: readonly string[],
): Promise<CliRun> {
  try {
    await command.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof Aborted)) throw error;
  }
  return io.run();
}

type AnyClient =
  | SQSClient
  | S3Client
  | CloudFormationClient
  | LambdaClient
  | SSMClient;

/** A request an AWS client made: the command's name and its input. */
export interface AwsRequest {
  readonly command: string;
  readonly input: unknown;
}

/** Answers by command name; a function may throw to fail the request. */
export type AwsScript = Record<string, (input: never) => unknown>;

/**
 * AWS clients whose every request is recorded and answered by `script`,
 * at the first middleware step: nothing is signed or sent.
 */
export function scriptedAws(script: AwsScript) {
  const requests: AwsRequest[] = [];
  const config = {
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const intercept = <C extends AnyClient>(client: C): C => {
    // The five clients' stacks differ in type only by their commands.
    (client.middlewareStack as SQSClient['middlewareStack']).add(
      (_next, context) => async (args) => {
        const command = context.commandName ?? '';
        requests.push({ command, input: structuredClone(args.input) });
        const answer = script[command];
        if (!answer) throw new Error(`the script has no answer to ${command}`);
        const output = await answer(args.input as never);
        return {
          output: { $metadata: {}, ...(output as object) },
          response: {},
        };
      },
      { step: 'initialize', name: 'scriptedAws' },
    );
    return client;
  };
  const targetClients = (): TargetClients => ({
    sqs: intercept(new SQSClient(config)),
    s3: intercept(new S3Client(config)),
    cloudformation: intercept(new CloudFormationClient(config)),
  });
  const controlClients = (): ControlClients => ({
    lambda: intercept(new LambdaClient(config)),
    ssm: intercept(new SSMClient(config)),
  });
  return { requests, targetClients, controlClients };
}

/** Outputs of a deployed stack with the queues of the built-in task types. */
export function stackOutputs(prefix = 'tasklane') {
  const url = (name: string) =>
    `https://sqs.eu-west-1.amazonaws.com/123456789012/${prefix}-${name}`;
  const outputs = ['order-notification', 'data-backup'].flatMap((slug) =>
    ['high', 'normal', 'dlq'].map((kind) => ({
      OutputKey: `${slug.replace('-', '')}${kind}QueueUrl`,
      OutputValue: url(`${slug}-${kind}`),
    })),
  );
  return { Stacks: [{ StackName: 'Tasklane', Outputs: outputs }] };
}

/** The ARN of a queue of `stackOutputs`, from its URL. */
export function arnOf(url: string): string {
  const name = url.split('/').pop();
  return `arn:aws:sqs:eu-west-1:123456789012:${name}`;
}
