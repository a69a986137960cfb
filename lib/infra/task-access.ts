import { Aws, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PipelineState } from './state.ts';

/**
 * Grants a task type's consumer what its handler uses beyond its own
 * queues, the idempotency and status outbox tables and the key, which
 * every consumer gets.
 */
export type TaskAccess = (
  consumer: lambda.Function,
  state: PipelineState,
) => void;

/** `order.notification`: reads an order, publishes to the topic. */
export const orderNotificationAccess: TaskAccess = (consumer, state) => {
  state.ordersTable.grant(consumer, 'dynamodb:GetItem');
  state.notificationTopic.grantPublish(consumer);
};

/**
 * `data.backup`: checks and reads the source object, writes the copy.
 *
 * The source bucket is named in each task's payload, so it is not known at
 * deploy time: reads are allowed on every bucket, but only on buckets of
 * this account (`aws:ResourceAccount`). ListBucket makes a missing object
 * answer 404 (the task is invalid) rather than 403 (retried).
 */
export const dataBackupAccess: TaskAccess = (consumer, state) => {
  const sameAccount = {
    StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID },
  };
  const objects = `arn:${Aws.PARTITION}:s3:::*/*`;
  const buckets = `arn:${Aws.PARTITION}:s3:::*`;
  consumer.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadBackupSources',
      actions: ['s3:GetObject'],
      resources: [objects],
      conditions: sameAccount,
    }),
  );
  consumer.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'FindBackupSources',
      actions: ['s3:ListBucket'],
      resources: [buckets],
      conditions: sameAccount,
    }),
  );
  consumer.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'WriteBackups',
      actions: ['s3:PutObject'],
      resources: [state.backupBucket.arnForObjects('*')],
    }),
  );

  const role = consumer.role as iam.Role;
  const why =
    'data.backup copies an object from the bucket its task payload names, ' +
    'unknown at deploy time; reads are limited to buckets of this account ' +
    'by aws:ResourceAccount.';
  for (const resource of [objects, buckets]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagForm(resource)}]`,
      reason: why,
    });
  }
  const bucketId = Stack.of(state.backupBucket).getLogicalId(
    state.backupBucket.node.defaultChild as CfnElement,
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
    reason:
      'Backups are written under the source object key, which each task ' +
      'names; the grant covers object keys of the backup bucket only.',
  });
};

/** Access of the task types tasklane ships with. */
export const BUILT_IN_TASK_ACCESS: Readonly<Record<string, TaskAccess>> = {
  'order.notification': orderNotificationAccess,
  'data.backup': dataBackupAccess,
};

/** How cdk-nag prints a resource string that holds pseudo parameters. */
function nagForm(resource: string): string {
  return resource.replace(
    /\$\{Token\[AWS\.Partition\.\d+\]\}/,
    '<AWS::Partition>',
  );
}
