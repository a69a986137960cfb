/** A lane of order.notification as the stack writes it, to vary in tests. */
import type { CfnResource, Props } from '../../lib/ops/compliance-template.ts';

export type Resources = Record<string, CfnResource>;

export const TLS_DENY = {
  Effect: 'Deny',
  Action: 'sqs:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
export const ALLOWLIST_DENY = {
  Sid: 'DenySendOutsideSenderAllowlist',
  Effect: 'Deny',
  Action: 'sqs:SendMessage',
  Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } },
};

/** One lane of order.notification, as the stack writes it, to vary. */
export function laneResources(): Resources {
  const queue = (name: string, extra = {}) => ({
    Type: 'AWS::SQS::Queue',
    Properties: { QueueName: name, KmsMasterKeyId: 'key', ...extra },
  });
  const task = {
    VisibilityTimeout: 180,
    RedrivePolicy: {
      deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] },
      maxReceiveCount: 10,
    },
  };
  const policy = (id: string) => ({
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: id }],
      PolicyDocument: { Statement: [TLS_DENY, ALLOWLIST_DENY] },
    },
  });
  const mapping = (id: string, extra: object) => ({
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      EventSourceArn: { 'Fn::GetAtt': [id, 'Arn'] },
      FunctionName: { Ref: 'Consumer' },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ...extra,
    },
  });
  return {
    Dlq: queue('tl-order-notification-dlq'),
    High: queue('tl-order-notification-high', task),
    Normal: queue('tl-order-notification-normal', task),
    DlqPolicy: policy('Dlq'),
    HighPolicy: policy('High'),
    NormalPolicy: policy('Normal'),
    Consumer: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Timeout: 30,
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Environment: {
          Variables: { TASKLANE_TASK_TYPE: 'order.notification' },
        },
      },
    },
    NormalMapping: mapping('Normal', {
      ScalingConfig: { MaximumConcurrency: 10 },
    }),
    HighMapping: mapping('High', {
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 200 },
    }),
  };
}

/** A copy of the resources with one resource's properties edited. */
export function edited(
  resources: Resources,
  id: string,
  edit: (properties: Props) => void,
): Resources {
  const copy = structuredClone(resources);
  edit(copy[id]?.Properties ?? {});
  return copy;
}

/** A copy where the queue policy `id` holds only `statements`. */
export function withStatements(
  resources: Resources,
  id: string,
  statements: object[],
): Resources {
  return edited(resources, id, (p) => {
    p.PolicyDocument.Statement = statements;
  });
}
