/**
 * The running configuration `tasklane verify` checks besides the template:
 * the queues' attributes (local emulator or AWS), the event source
 * mappings (AWS), and the local control server's settings.
 */
import {
  type EventSourceMappingConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ControlConfig } from '../local/control-server.ts';
import { laneKey, type TemplateView } from './compliance-template.ts';
import { type Finding, fail, listed, pass } from './compliance-verdicts.ts';

/** A queue as it runs, with every attribute SQS reports. */
export interface RunningQueue {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An event source mapping as it runs. */
export interface RunningMapping {
  readonly queueName: string;
  readonly state?: string;
  readonly batchSize?: number;
  readonly maximumConcurrency?: number;
  readonly reportsItemFailures: boolean;
}

/** What runs, under one prefix. */
export interface RunningConfig {
  /** Where it was read: `local <endpoint>` or `AWS <region>`. */
  readonly where: string;
  readonly prefix: string;
  readonly queues: readonly RunningQueue[];
  /** Read on AWS only: locally the pollers stand in for mappings. */
  readonly mappings?: readonly RunningMapping[];
  /** The local control server's settings, when it answered. */
  readonly control?: ControlConfig;
}

/** Clients and places to read the running configuration from. */
export interface RunningConfigSources {
  readonly where: string;
  readonly prefix: string;
  /** The queues to read, by name and URL. */
  readonly queues: readonly { name: string; url: string }[];
  readonly sqs: SQSClient;
  readonly lambda?: LambdaClient;
  readonly controlUrl?: string;
}

/** Reads the queues' attributes, the mappings and the control settings. */
export async function readRunningConfig(
  sources: RunningConfigSources,
): Promise<RunningConfig> {
  const queues = await readQueues(sources.sqs, sources.queues);
  return {
    where: sources.where,
    prefix: sources.prefix,
    queues,
    mappings: sources.lambda && (await readMappings(sources.lambda, queues)),
    control: sources.controlUrl
      ? await readControl(sources.controlUrl)
      : undefined,
  };
}

async function readQueues(
  sqs: SQSClient,
  queues: RunningConfigSources['queues'],
): Promise<RunningQueue[]> {
  return Promise.all(
    queues.map(async ({ name, url }) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['All'],
        }),
      );
      return { name, attributes: Attributes };
    }),
  );
}

async function readMappings(
  lambda: LambdaClient,
  queues: readonly RunningQueue[],
): Promise<RunningMapping[]> {
  const tasks = queues.filter((q) => isTaskQueue(q.name));
  const found = await Promise.all(
    tasks.map(async (queue) => {
      const { EventSourceMappings = [] } = await lambda.send(
        new ListEventSourceMappingsCommand({
          EventSourceArn: queue.attributes.QueueArn,
        }),
      );
      return EventSourceMappings.map((m) => toMapping(queue.name, m));
    }),
  );
  return found.flat();
}

function toMapping(
  queueName: string,
  mapping: EventSourceMappingConfiguration,
): RunningMapping {
  return {
    queueName,
    state: mapping.State,
    batchSize: mapping.BatchSize,
    maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency,
    reportsItemFailures:
      mapping.FunctionResponseTypes?.includes('ReportBatchItemFailures') ??
      false,
  };
}

/** The control server's settings; undefined when it does not answer. */
async function readControl(url: string): Promise<ControlConfig | undefined> {
  try {
    const response = await fetch(new URL('/config', url));
    return response.ok ? ((await response.json()) as ControlConfig) : undefined;
  } catch {
    return undefined;
  }
}

function isTaskQueue(name: string): boolean {
  return /-(high|normal)$/.test(name);
}

/** Running task queues: each redrives after more than `attempts` receives. */
export function runningRedrive(running: RunningConfig, attempts: number) {
  const tasks = running.queues.filter((q) => isTaskQueue(q.name));
  const problems = tasks.flatMap((q) => {
    const policy = JSON.parse(q.attributes.RedrivePolicy ?? '{}');
    const receives = Number(policy.maxReceiveCount);
    return receives > attempts
      ? []
      : [`${q.name} redrives after ${policy.maxReceiveCount ?? 'never'}`];
  });
  return verdict(
    running,
    problems,
    `${tasks.length} task queues redrive after more than ${attempts} receives`,
  );
}

/** Running task queues: visibility at least 6 times their lane's timeout. */
export function runningVisibility(running: RunningConfig, view: TemplateView) {
  const timeouts = new Map(
    view
      .lanes()
      .map((lane) => [lane.taskType.replaceAll('.', '-'), lane.timeoutSeconds]),
  );
  const checked: string[] = [];
  const problems = running.queues.flatMap((q) => {
    const timeout = timeouts.get(laneKey(q.name, running.prefix));
    if (!isTaskQueue(q.name) || timeout === undefined) return [];
    const visibility = Number(q.attributes.VisibilityTimeout);
    checked.push(`${q.name} ${visibility} s`);
    return visibility >= 6 * timeout
      ? []
      : [`${q.name} visibility ${visibility} s < 6 x ${timeout} s`];
  });
  return verdict(running, problems, `visibility ${listed(checked)}`);
}

/** Running mappings: batch size 10 or less, partial batch responses. */
export function runningMappings(running: RunningConfig): Finding | undefined {
  if (!running.mappings) return undefined;
  const problems = running.mappings.flatMap((m) => [
    ...((m.batchSize ?? 0) > 10 ? [`${m.queueName} batch ${m.batchSize}`] : []),
    ...(m.reportsItemFailures
      ? []
      : [`${m.queueName} without ReportBatchItemFailures`]),
  ]);
  const shown = running.mappings.map(
    (m) => `${m.queueName} ${m.state ?? '?'} batch ${m.batchSize ?? '?'}`,
  );
  return verdict(running, problems, `mappings ${listed(shown)}`);
}

function verdict(
  running: RunningConfig,
  problems: readonly string[],
  evidence: string,
): Finding {
  const where = `running (${running.where})`;
  return problems.length === 0
    ? pass(`${where}: ${evidence}`)
    : fail(`${where}: ${problems.join('; ')}`);
}
