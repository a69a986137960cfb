/** A monitored stack of fake lanes, and readers of its template. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  type AlarmThresholds,
  DEFAULT_THRESHOLDS,
  type TaskLaneResources,
} from '../../lib/infra/contracts.ts';
import { PipelineMonitoring } from '../../lib/infra/monitoring.ts';

export const PREFIX = 'tl';
export const TYPE = 'order.notification';
export const NAME = 'tl-order-notification';
export const ACCOUNT = '123456789012';

export interface BuildOptions {
  readonly taskTypes?: readonly string[];
  readonly thresholds?: AlarmThresholds;
  readonly alarmEmail?: string;
  readonly key?: (stack: Stack) => kms.IKey;
}

/** A bare stack with fake lanes of real queues and inline functions. */
export function build(options: BuildOptions = {}) {
  const stack = new Stack(new App(), 'Test', {
    env: { account: ACCOUNT, region: 'eu-west-1' },
  });
  const key = options.key?.(stack) ?? new kms.Key(stack, 'Key');
  const lanes = (options.taskTypes ?? [TYPE]).map((t) => fakeLane(stack, t));
  const monitoring = new PipelineMonitoring(stack, 'Monitoring', {
    prefix: PREFIX,
    lanes,
    thresholds: options.thresholds ?? DEFAULT_THRESHOLDS,
    key,
    ...(options.alarmEmail ? { alarmEmail: options.alarmEmail } : {}),
  });
  const template = Template.fromStack(stack);
  return { stack, lanes, monitoring, template, ref: refsOf(stack, lanes) };
}

/** A lane of real queues and an inline consumer function, for templates. */
export function fakeLane(stack: Stack, taskType: string): TaskLaneResources {
  const id = taskType.replaceAll('.', '-');
  return {
    taskType,
    queues: {
      high: new sqs.Queue(stack, `${id}-high`),
      normal: new sqs.Queue(stack, `${id}-normal`),
    },
    deadLetterQueue: new sqs.Queue(stack, `${id}-dlq`),
    consumer: new lambda.Function(stack, `${id}-consumer`, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    }),
  };
}

/** CloudFormation references to the fake resources, as alarms hold them. */
function refsOf(stack: Stack, lanes: readonly TaskLaneResources[]) {
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as never);
  const lane = lanes[0] as TaskLaneResources;
  const queueName = (queue: sqs.IQueue) => ({
    'Fn::GetAtt': [logicalId(queue), 'QueueName'],
  });
  return {
    high: queueName(lane.queues.high),
    normal: queueName(lane.queues.normal),
    dlq: queueName(lane.deadLetterQueue),
    consumer: { Ref: logicalId(lane.consumer) },
  };
}

export type Props = Record<string, unknown>;

export function alarmsOf(template: Template): Props[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (resource) => resource.Properties as Props,
  );
}

export function alarmNamed(template: Template, name: string): Props {
  const alarm = alarmsOf(template).find((a) => a.AlarmName === name);
  if (!alarm) throw new Error(`no alarm named ${name}`);
  return alarm;
}

export function topicRef(template: Template) {
  const [id] = Object.keys(template.findResources('AWS::SNS::Topic'));
  return { Ref: id };
}

/** Both dimensions the consumer sets, in the order CDK renders them. */
export const consumerDimensions = (taskType: string) => [
  { Name: 'TaskType', Value: taskType },
  { Name: 'service', Value: 'tasklane' },
];

/** The dashboard body with every CloudFormation reference as `<ref>`. */
export function dashboardBody(template: Template): {
  widgets: { type: string; properties: Props }[];
} {
  const [dashboard] = Object.values(
    template.findResources('AWS::CloudWatch::Dashboard'),
  );
  const body = dashboard?.Properties.DashboardBody as {
    'Fn::Join': [string, unknown[]];
  };
  const parts = body['Fn::Join'][1];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : '<ref>'))
    .join('');
  return JSON.parse(text);
}
