import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  demoEnvelope,
  finalStatus,
  startTestPipeline,
} from '../helpers/pipeline.ts';

const run = promisify(execFile);
const DEBIAN_CLI = '/usr/bin/aws';
// apt-get update and install over a slow mirror take minutes.
const INSTALL_TIMEOUT_MS = 300_000;

/** One AWS CLI binary and the version it reports. */
interface AwsCli {
  readonly path: string;
  readonly version: string;
}

/** The machine's environment without AWS_* settings, plus local ones. */
const cliEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  ),
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_PAGER: '',
  AWS_EC2_METADATA_DISABLED: 'true',
};

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function awsOnPath(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, 'aws');
    if (dir && (await isExecutable(path))) return path;
  }
  return undefined;
}

/** The CLI at `path` with its version; undefined when it does not run. */
async function probe(path: string): Promise<AwsCli | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { env: cliEnv });
    return { path, version: stdout.trim().split(' ')[0] ?? 'aws-cli' };
  } catch {
    return undefined;
  }
}

/** The `aws` on PATH and Debian's, once each (a symlink is the same). */
async function findClis(): Promise<AwsCli[]> {
  const paths = [await awsOnPath(), DEBIAN_CLI];
  const found = new Map<string, AwsCli>();
  for (const path of paths) {
    if (!path || !(await isExecutable(path))) continue;
    const real = await realpath(path);
    const cli = found.has(real) ? undefined : await probe(path);
    if (cli) found.set(real, cli);
  }
  return [...found.values()];
}

/** Installs Debian's awscli; the reason it could not, or undefined. */
async function installDebianCli(): Promise<string | undefined> {
  const options = {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: INSTALL_TIMEOUT_MS,
  };
  try {
    await run('apt-get', ['update'], options);
    await run('apt-get', ['install', '-y', 'awscli'], options);
    return undefined;
  } catch (error) {
    return `apt-get could not install awscli: ${(error as Error).message}`;
  }
}

/** Every CLI here; with none, Debian's installed first if apt-get can. */
async function setUpClis(): Promise<{ clis: AwsCli[]; skip?: string }> {
  const clis = await findClis();
  if (clis.length > 0) return { clis };
  const failure = await installDebianCli();
  if (failure) return { clis, skip: failure };
  const installed = await findClis();
  return installed.length > 0
    ? { clis: installed }
    : { clis, skip: 'awscli installed, yet no aws runs' };
}

const { clis, skip } = await setUpClis();
if (skip) console.warn(`AWS CLI tests skipped: ${skip}`);

let pipeline: LocalPipeline;

beforeAll(async () => {
  pipeline = await startTestPipeline();
});

afterAll(async () => {
  await pipeline?.stop();
});

/** The parts of the CLI's JSON output these tests read. */
interface CliOutput {
  readonly MessageId?: string;
  readonly QueueUrls?: string[];
  readonly Messages?: {
    readonly Body: string;
    readonly MessageAttributes?: Record<string, unknown>;
  }[];
}

/** Runs the CLI against the local endpoint; stdout parsed as JSON. */
async function aws(cli: AwsCli, args: string[]): Promise<CliOutput> {
  const { stdout } = await run(
    cli.path,
    [...args, '--endpoint-url', pipeline.endpoint, '--output', 'json'],
    { env: cliEnv },
  );
  return stdout.trim() ? JSON.parse(stdout) : {};
}

function demoQueueUrl(): string {
  const queue = pipeline.resources.queues.find(
    (q) => q.taskType === 'demo.flaky' && q.priority === 'normal',
  );
  return queue?.url ?? '';
}

// Skipped, the suite still shows, under the CLI it would have used.
const suites = (
  clis.length > 0 ? clis : [{ path: DEBIAN_CLI, version: 'aws-cli' }]
).map((cli) => [`${cli.version} at ${cli.path}`, cli] as const);

describe.skipIf(skip !== undefined).each(suites)('%s', (_name, cli) => {
  it('sends a task with send-message that completes', async () => {
    // Prepare
    const task = demoEnvelope({ payload: { failTimes: 0, workMs: 0 } });

    // Act
    const sent = await aws(cli, [
      'sqs',
      'send-message',
      '--queue-url',
      demoQueueUrl(),
      '--message-body',
      JSON.stringify(task),
    ]);
    const record = await finalStatus(pipeline, task.id);

    // Assess
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('receives a dead-lettered task with its reason attribute', async () => {
    // Prepare: an envelope whose priority is not one of the two
    const task = demoEnvelope({ priority: 'urgent' as 'high' });
    const deadLetterUrl =
      pipeline.resources.deadLetterQueueUrls.get('demo.flaky') ?? '';
    await aws(cli, [
      'sqs',
      'send-message',
      '--queue-url',
      demoQueueUrl(),
      '--message-body',
      JSON.stringify(task),
    ]);
    await finalStatus(pipeline, task.id);

    // Act
    const { Messages = [] } = await aws(cli, [
      'sqs',
      'receive-message',
      '--queue-url',
      deadLetterUrl,
      '--message-attribute-names',
      'All',
      '--max-number-of-messages',
      '10',
      '--wait-time-seconds',
      '1',
    ]);

    // Assess
    const letter = Messages.find((m) => m.Body === JSON.stringify(task));
    expect(letter?.MessageAttributes?.['tasklane.reason']).toEqual({
      DataType: 'String',
      StringValue: 'INVALID',
    });
  });

  it('lists the test queues, each on the public port', async () => {
    // Act
    const { QueueUrls = [] } = await aws(cli, [
      'sqs',
      'list-queues',
      '--queue-name-prefix',
      'test-',
    ]);

    // Assess
    const expected = [
      ...pipeline.resources.queues.map((q) => q.url),
      ...pipeline.resources.deadLetterQueueUrls.values(),
      pipeline.resources.callbacksDeadLetterQueueUrl,
      pipeline.resources.undeliveredQueueUrl,
    ];
    expect([...QueueUrls].sort()).toEqual(expected.sort());
    const port = new URL(pipeline.endpoint).port;
    for (const url of QueueUrls) expect(new URL(url).port).toBe(port);
  });

  it('reports a missing queue with the query error code', async () => {
    // Act
    const lookup = aws(cli, [
      'sqs',
      'get-queue-url',
      '--queue-name',
      'test-no-such-queue',
    ]);

    // Assess
    await expect(lookup).rejects.toThrow(
      /AWS\.SimpleQueueService\.NonExistentQueue/,
    );
  });
});

describe('the messaging endpoint beside the query protocol', () => {
  it('passes SNS form posts through to SNS', async () => {
    // Act
    const answer = await fetch(pipeline.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListTopics&Version=2010-03-31',
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain(
      `<TopicArn>${pipeline.resources.notificationTopicArn}</TopicArn>`,
    );
  });

  it('keeps S3 object bytes unchanged both ways', async () => {
    // Prepare
    const bytes = randomBytes(3 * 1024 * 1024);
    const object = {
      Bucket: pipeline.resources.names.backupBucket,
      Key: 'aws-cli-test/random.bin',
    };

    // Act
    await pipeline.clients.s3.send(
      new PutObjectCommand({ ...object, Body: bytes }),
    );
    const got = await pipeline.clients.s3.send(new GetObjectCommand(object));
    const read = await got.Body?.transformToByteArray();

    // Assess
    expect(Buffer.from(read ?? []).equals(bytes)).toBe(true);
  });
});
