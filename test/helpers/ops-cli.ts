/**
 * Running the operations commands (send, stats, dlq) in this process, with
 * a recording `CliIo` whose abort ends the run with its exit code, and AWS
 * clients from `scriptedAws` that never reach the network.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import type { CommandDeps } from '../../lib/cli/command-kit.ts';
import type { ClientFactory, TargetOptions } from '../../lib/cli/target.ts';
import {
  type AwsScript,
  arnOf,
  type CliRun,
  recordingIo,
  runInProcess,
  scriptedAws,
  stackOutputs,
} from './control-cli.ts';

/**
 * Runs `tasklane <args>` with one command registered, built by `make`, in
 * this process.
 */
export async function runOps(
  make: (deps: CommandDeps) => Command,
  args: readonly string[],
  clients?: ClientFactory,
): Promise<CliRun> {
  const io = recordingIo();
  const program = new Command('tasklane')
    .exitOverride()
    .addCommand(make({ io, clients }));
  return runInProcess(program, io, args);
}

/**
 * Scripted AWS clients for the target commands, recording the target
 * options each command resolved.
 */
export function scriptedTarget(script: AwsScript) {
  const aws = scriptedAws(script);
  const options: TargetOptions[] = [];
  const clients: ClientFactory = (given) => {
    options.push(given);
    return aws.targetClients();
  };
  /** The inputs of every request of one command, in order. */
  const inputs = (command: string) =>
    aws.requests.filter((r) => r.command === command).map((r) => r.input);
  return { clients, options, requests: aws.requests, inputs };
}

const ARN = 'arn:aws:sqs:eu-west-1:123456789012';

/** A dead letter as the consumer writes it, with task id `task-<n>`. */
export function deadLetterMessage(
  n: number,
  reason: string,
  code: string,
  source = 'tasklane-order-notification-normal',
): Message {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const history = [
    { attempt: 1, at: '2026-12-01T10:00:00.000Z', code, message: 'boom 1' },
  ];
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: `r-${n}`,
    Body: JSON.stringify({
      id: `task-${n}`,
      taskType: 'order.notification',
      businessId: `order-${n}`,
      priority: 'normal',
      payload: {},
    }),
    MessageAttributes: {
      'tasklane.reason': text(reason),
      'tasklane.attempts': { DataType: 'Number', StringValue: '1' },
      'tasklane.errorCode': text(code),
      'tasklane.lastError': text('boom 1'),
      'tasklane.errorHistory': text(JSON.stringify(history)),
      'tasklane.sourceQueue': text(`${ARN}:${source}`),
      'tasklane.deadLetteredAt': text('2026-12-01T10:00:01.000Z'),
    },
  };
}

/** URL of a queue of order.notification in `stackOutputs`. */
export const orderQueueUrl = (kind: 'high' | 'normal' | 'dlq') =>
  `https://sqs.eu-west-1.amazonaws.com/123456789012/tasklane-order-notification-${kind}`;

/** Batch request entries, as the tests read them back. */
export interface Entries {
  Entries: { Id: string; ReceiptHandle?: string }[];
}

/**
 * A stack whose dead-letter queues hold `messages` (each handed out once),
 * and SQS and S3 accepting every other request; `overrides` replace
 * answers.
 */
export function dlqAws(messages: Message[], overrides: AwsScript = {}) {
  let waiting = [...messages];
  const ok = (input: Entries) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id })),
    Failed: [],
  });
  return scriptedTarget({
    DescribeStacksCommand: () => stackOutputs(),
    ReceiveMessageCommand: () => {
      const batch = waiting.slice(0, 10);
      waiting = waiting.slice(10);
      return { Messages: batch };
    },
    ChangeMessageVisibilityBatchCommand: ok,
    DeleteMessageBatchCommand: ok,
    SendMessageBatchCommand: ok,
    PutObjectCommand: () => ({}),
    GetQueueAttributesCommand: (input: {
      QueueUrl: string;
      AttributeNames: string[];
    }) => ({
      Attributes: input.AttributeNames.includes('QueueArn')
        ? { QueueArn: arnOf(input.QueueUrl) }
        : { ApproximateNumberOfMessages: String(messages.length) },
    }),
    StartMessageMoveTaskCommand: () => ({ TaskHandle: 'handle-1' }),
    ListMessageMoveTasksCommand: () => ({
      Results: [
        {
          Status: 'COMPLETED',
          ApproximateNumberOfMessagesMoved: 3,
          ApproximateNumberOfMessagesToMove: 3,
        },
      ],
    }),
    ...overrides,
  });
}

/** Receipt handles of every entry of some batch requests. */
export function receiptHandles(inputs: readonly unknown[]): string[] {
  return inputs
    .flatMap((i) => (i as Entries).Entries.map((e) => e.ReceiptHandle ?? ''))
    .sort();
}

/** Three dead letters of order.notification: two exhausted, one invalid. */
export const THREE_DEAD_LETTERS = [
  deadLetterMessage(
    1,
    'RETRIES_EXHAUSTED',
    'TASK_FAILED',
    'tasklane-order-notification-high',
  ),
  deadLetterMessage(2, 'INVALID', 'INVALID_PAYLOAD'),
  deadLetterMessage(3, 'RETRIES_EXHAUSTED', 'TASK_TIMEOUT'),
];

/** The ReceiveMessage request of every dead-letter read on AWS. */
export const AWS_RECEIVE = {
  QueueUrl: orderQueueUrl('dlq'),
  MaxNumberOfMessages: 10,
  WaitTimeSeconds: 1,
  MessageAttributeNames: ['All'],
  MessageSystemAttributeNames: ['All'],
};
