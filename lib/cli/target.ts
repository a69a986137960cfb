import {
  CloudFormationClient,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  paginateListQueues,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { assertPrefix, DEFAULT_PREFIX, queueNameOf } from '../queue-names.ts';

/** The stack name `cdk deploy` gives tasklane unless told otherwise. */
export const DEFAULT_STACK = 'Tasklane';

/** Where a command talks to, from the options every command takes. */
export interface TargetOptions {
  /** Local mode: the SQS endpoint of `tasklane local`. */
  readonly endpoint?: string;
  readonly region?: string;
  /** A profile of the AWS config and credentials files. */
  readonly profile?: string;
  /** The deployed stack whose outputs name the queues. */
  readonly stack: string;
  readonly prefix: string;
  /** Print JSON for scripts instead of text. */
  readonly json?: boolean;
}

/** The AWS clients a command may use. */
export interface TargetClients {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly cloudformation: CloudFormationClient;
}

/** Makes the clients for a target; tests pass one that works offline. */
export type ClientFactory = (options: TargetOptions) => TargetClients;

/** A queue by name and URL. */
export interface QueueRef {
  readonly name: string;
  readonly url: string;
}

/** A resolved target: its clients and its queues. */
export interface Target {
  readonly options: TargetOptions;
  readonly clients: TargetClients;
  /** True in local mode, where `--endpoint` names an emulator. */
  readonly local: boolean;
  readonly prefix: string;
  /** Every queue whose name starts with the prefix. */
  queues(): Promise<QueueRef[]>;
  /** The URL of a queue, by name; throws when the target has no such queue. */
  queueUrl(name: string): Promise<string>;
  /** The ARN of a queue, read from its attributes. */
  queueArn(url: string): Promise<string>;
  /** Closes the clients' sockets. */
  destroy(): void;
}

/** Help text on choosing a target, for every command's `--help`. */
export const TARGET_HELP = `
Target: local mode with --endpoint (any credentials, region us-east-1), or
a deployed stack with --region, --profile and --stack: its outputs name the
queues. --prefix must match the prefix the pipeline was deployed with.`;

/** Adds the target options: endpoint, region, profile, stack, prefix, json. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--endpoint <url>', 'local mode: SQS endpoint of the emulator')
        .env('TASKLANE_ENDPOINT')
        .argParser(endpointUrl),
    )
    .option('--region <region>', 'AWS region (default: from the AWS config)')
    .option('--profile <name>', 'AWS profile of the config and credentials')
    .option(
      '--stack <name>',
      'stack whose outputs name the queues',
      DEFAULT_STACK,
    )
    .addOption(
      new Option('--prefix <prefix>', 'start of every queue name')
        .default(DEFAULT_PREFIX)
        .env('TASKLANE_PREFIX')
        .argParser(prefix),
    )
    .option('--json', 'print JSON for scripts instead of text')
    .addHelpText('after', TARGET_HELP);
}

function endpointUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError(`must be an http(s) URL (got ${value})`);
  }
  return value;
}

function prefix(value: string): string {
  try {
    assertPrefix(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

// Emulators accept any credentials; fixed ones keep the SDK from searching
// the machine's credential chain.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The configuration of a client of a deployed stack: the region and the
 * profile given, else the SDK's defaults. Every AWS client of a command
 * takes it, so that all use the same account, region and credentials.
 */
export function awsClientConfig(options: TargetOptions) {
  return {
    ...(options.region && { region: options.region }),
    ...(options.profile && { profile: options.profile }),
  };
}

/**
 * The clients of a target: on an endpoint with dummy credentials, else
 * with the region and the profile's credentials (the SDK reads the
 * profile from the shared config and credentials files).
 */
export function createTargetClients(options: TargetOptions): TargetClients {
  const aws = awsClientConfig(options);
  const sqsConfig = options.endpoint
    ? {
        endpoint: options.endpoint,
        region: options.region ?? 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
      }
    : aws;
  return {
    sqs: new SQSClient(sqsConfig),
    // The emulator serves buckets by path, not by host name.
    s3: new S3Client({ ...sqsConfig, forcePathStyle: !!options.endpoint }),
    cloudformation: new CloudFormationClient(aws),
  };
}

/** Resolves a target; queue URLs are read once and reused. */
export function openTarget(
  options: TargetOptions,
  factory: ClientFactory = createTargetClients,
): Target {
  const clients = factory(options);
  const local = options.endpoint !== undefined;
  let listed: Promise<QueueRef[]> | undefined;
  const queues = () => {
    listed ??= local
      ? listLocalQueues(clients.sqs, options.prefix)
      : listStackQueues(clients.cloudformation, options);
    return listed;
  };

  return {
    options,
    clients,
    local,
    prefix: options.prefix,
    queues,
    async queueUrl(name) {
      if (local) return localQueueUrl(clients.sqs, name, options);
      const found = (await queues()).find((queue) => queue.name === name);
      if (!found) throw notInStack(name, options);
      return found.url;
    },
    queueArn: (url) => readQueueArn(clients.sqs, url),
    destroy() {
      clients.sqs.destroy();
      clients.s3.destroy();
      clients.cloudformation.destroy();
    },
  };
}

/** Runs work on a target, then closes its clients. */
export async function usingTarget<T>(
  options: TargetOptions,
  factory: ClientFactory | undefined,
  work: (target: Target) => Promise<T>,
): Promise<T> {
  const target = openTarget(options, factory);
  try {
    return await work(target);
  } finally {
    target.destroy();
  }
}

async function listLocalQueues(
  sqs: SQSClient,
  prefix: string,
): Promise<QueueRef[]> {
  const urls: string[] = [];
  const pages = paginateListQueues(
    { client: sqs },
    { QueueNamePrefix: `${prefix}-`, MaxResults: 1000 },
  );
  for await (const page of pages) urls.push(...(page.QueueUrls ?? []));
  return urls.map((url) => ({ name: queueNameOf(url), url }));
}

/** The queue URLs among the stack's outputs, those with the prefix. */
async function listStackQueues(
  cloudformation: CloudFormationClient,
  options: TargetOptions,
): Promise<QueueRef[]> {
  const { Stacks = [] } = await cloudformation.send(
    new DescribeStacksCommand({ StackName: options.stack }),
  );
  const outputs = Stacks[0]?.Outputs ?? [];
  const all = outputs
    .filter((o) => o.OutputKey?.endsWith('QueueUrl') && o.OutputValue)
    .map((o) => o.OutputValue as string)
    .map((url) => ({ name: queueNameOf(url), url }));
  const mine = all.filter((q) => q.name.startsWith(`${options.prefix}-`));
  if (mine.length === 0) {
    const names = all.map((q) => q.name).join(', ') || 'none';
    throw new Error(
      `stack ${options.stack} has no queue named ${options.prefix}-*; ` +
        `its queues: ${names}. Does --prefix match the deployment?`,
    );
  }
  return mine;
}

async function localQueueUrl(
  sqs: SQSClient,
  name: string,
  options: TargetOptions,
): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: name }),
    );
    if (QueueUrl) return QueueUrl;
  } catch (error) {
    if ((error as Error).name !== 'QueueDoesNotExist') throw error;
  }
  throw new Error(`queue ${name} does not exist at ${options.endpoint}`);
}

function notInStack(name: string, options: TargetOptions): Error {
  return new Error(
    `queue ${name} is not among the outputs of stack ${options.stack}; ` +
      'check --type, --prefix and --stack',
  );
}

async function readQueueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn'],
    }),
  );
  if (!Attributes?.QueueArn) throw new Error(`no ARN returned for ${url}`);
  return Attributes.QueueArn;
}
