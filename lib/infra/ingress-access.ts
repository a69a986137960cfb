/** What the ingress function may do: its role and its grants. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { rateLimitParameterName } from '../ops/rate-limit.ts';
import type { PipelineIngressProps } from './contracts.ts';

/**
 * Its own role rather than the default one's AWS-managed policy, which may
 * create and write any log group: this one writes its own log group only.
 */
export function functionRole(
  scope: Construct,
  prefix: string,
  logGroup: logs.ILogGroup,
): iam.Role {
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Ingress function of the ${prefix} pipeline`,
  });
  logGroup.grantWrite(role);
  return role;
}

/**
 * Send to the task queues and read their URL and depth, nothing more; the
 * key only as far as SQS needs it to encrypt a message.
 */
export function grantSend(fn: lambda.IFunction, props: PipelineIngressProps) {
  const queueArns = props.lanes.flatMap((lane) => [
    lane.queues.high.queueArn,
    lane.queues.normal.queueArn,
  ]);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resources: queueArns,
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [props.key.keyArn],
    }),
  );
}

/**
 * Read the send-rate limit `tasklane throttle` sets, that one parameter
 * only; it may not exist yet, which the function reads as no limit.
 */
export function grantReadRateLimit(fn: lambda.IFunction, prefix: string) {
  const parameterArn = Stack.of(fn).formatArn({
    service: 'ssm',
    resource: 'parameter',
    // The name's leading slash is the separator after `parameter`.
    resourceName: rateLimitParameterName(prefix).slice(1),
  });
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [parameterArn],
    }),
  );
}
