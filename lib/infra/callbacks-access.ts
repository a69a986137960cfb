/**
 * What the callback parts may do: the role EventBridge Scheduler assumes,
 * the dispatcher's grants and the grants of a consumer that schedules
 * deliveries. Every action is named; the one wildcard is the schedule
 * name, which is made per delivery (see lib/callbacks/scheduler.ts).
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { OUTBOX_PENDING_INDEX } from '../tables.ts';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

/** KMS actions DynamoDB, SQS and Secrets Manager call with the key. */
const KEY_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:DescribeKey',
];

/** What a consumer needs to ask for a delivery. */
export interface NotifyAccess {
  readonly key: kms.IKey;
  readonly targetsTable: dynamodb.ITable;
  /** The schedule group's name. */
  readonly scheduleGroupName: string;
  readonly schedulerRole: iam.IRole;
}

/** What the dispatcher works on, beyond what a consumer needs. */
export interface DispatchAccess extends NotifyAccess {
  readonly statusOutboxTable: dynamodb.ITable;
  readonly deadLetterQueue: sqs.IQueue;
  readonly signingSecret: secretsmanager.ISecret;
}

/**
 * The role EventBridge Scheduler assumes to invoke the dispatcher. Only
 * schedules of the callbacks' group in this account may use it
 * (`aws:SourceAccount`, `aws:SourceArn`, against the confused deputy),
 * and it may invoke the dispatcher and nothing else.
 */
export function createSchedulerRole(
  scope: Construct,
  prefix: string,
  scheduleGroupArn: string,
): iam.Role {
  return new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE, {
      conditions: {
        StringEquals: {
          'aws:SourceAccount': Stack.of(scope).account,
          'aws:SourceArn': scheduleGroupArn,
        },
      },
    }),
    description: `Invokes the callback dispatcher of the ${prefix} pipeline`,
  });
}

/**
 * Lets the scheduler role invoke the dispatcher: the unqualified function
 * ARN, which is what every schedule names as its target.
 */
export function allowInvoke(role: iam.Role, dispatcher: lambda.IFunction) {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeCallbackDispatcher',
      actions: ['lambda:InvokeFunction'],
      resources: [dispatcher.functionArn],
    }),
  );
}

/**
 * What `notifyPending` calls: an update of the target's throttle state,
 * a one-time schedule in the group that passes the scheduler role, and
 * the key the table is encrypted with.
 */
export function grantNotifyAccess(
  grantee: iam.IGrantable,
  access: NotifyAccess,
): void {
  const scope = access.targetsTable;
  const schedules = schedulesArn(scope, access.scheduleGroupName);
  const allow = (
    actions: string[],
    resourceArns: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ) => iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions });

  allow(['dynamodb:UpdateItem'], [access.targetsTable.tableArn]);
  allow(['scheduler:CreateSchedule'], [schedules]);
  allow(['iam:PassRole'], [access.schedulerRole.roleArn], {
    StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE },
  });
  allow(KEY_ACTIONS, keyArns(access.key, [access.targetsTable.encryptionKey]));
  acknowledgeSchedules(grantee, schedules, scope);
}

/**
 * The dispatcher's grants: the consumer's, plus reading pending statuses
 * (query of the index by target, consistent batch reads) and settling
 * them, scanning the targets for the sweep, dead-lettering to the callback
 * queue, and reading the secret.
 */
export function grantDispatchAccess(
  grantee: iam.IGrantable,
  access: DispatchAccess,
): void {
  grantNotifyAccess(grantee, access);
  const outbox = access.statusOutboxTable;
  const allow = (actions: string[], resourceArns: string[]) =>
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns });

  allow(
    ['dynamodb:Query'],
    [`${outbox.tableArn}/index/${OUTBOX_PENDING_INDEX}`],
  );
  // The sweep reads every target with a delivery pending.
  allow(['dynamodb:Scan'], [access.targetsTable.tableArn]);
  allow(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], [outbox.tableArn]);
  allow(['sqs:SendMessage'], [access.deadLetterQueue.queueArn]);
  allow(
    ['secretsmanager:GetSecretValue'],
    [secretArnPattern(access.signingSecret)],
  );
  const otherKeys = keyArns(access.key, [
    outbox.encryptionKey,
    access.deadLetterQueue.encryptionMasterKey,
    access.signingSecret.encryptionKey,
  ]).filter((arn) => arn !== access.key.keyArn);
  if (otherKeys.length > 0) allow(KEY_ACTIONS, otherKeys);
}

/**
 * The secret's ARN as a policy matches it: a secret imported by name has
 * no known suffix, which Secrets Manager makes six characters long.
 */
function secretArnPattern(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/** What the dispatcher names the secret by: its full ARN, else its name. */
export function secretId(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? secret.secretName;
}

/** Every schedule of the group: `.../schedule/<group>/*`. */
export function schedulesArn(scope: IConstruct, groupName: string): string {
  return Stack.of(scope).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${groupName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** The pipeline's key and any other key among `others`, once each. */
function keyArns(
  key: kms.IKey,
  others: readonly (kms.IKey | undefined)[],
): string[] {
  const arns = [key.keyArn];
  for (const other of others) {
    if (other && !arns.includes(other.keyArn)) arns.push(other.keyArn);
  }
  return arns;
}

/** Why a role may create any schedule of the callbacks' group. */
function acknowledgeSchedules(
  grantee: iam.IGrantable,
  schedules: string,
  scope: IConstruct,
): void {
  const role = grantee.grantPrincipal;
  if (!isConstruct(role)) return;
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagForm(scope, schedules)}]`,
    reason:
      'Each callback delivery is a one-time schedule named after its ' +
      'target and second, made at run time; the grant covers schedules ' +
      'of the callbacks schedule group only, and passing the role only to ' +
      'EventBridge Scheduler.',
  });
}

function isConstruct(value: unknown): value is IConstruct {
  return typeof value === 'object' && value !== null && 'node' in value;
}

/**
 * How cdk-nag prints a policy resource: references as `<Id.Attr>` or
 * `<AWS::Region>`, joins concatenated.
 */
export function nagForm(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') {
      return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    }
    const ref = node as Record<string, unknown>;
    if (Array.isArray(ref['Fn::Join'])) {
      const [delimiter, parts] = ref['Fn::Join'] as [string, unknown[]];
      return parts.map(visit).join(delimiter);
    }
    if (Array.isArray(ref['Fn::GetAtt'])) {
      const [id, attribute] = ref['Fn::GetAtt'] as [string, string];
      return `<${id}.${attribute}>`;
    }
    if (ref.Ref !== undefined) return `<${String(ref.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}
