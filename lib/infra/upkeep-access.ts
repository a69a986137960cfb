/** The daily upkeep's archive bucket and what its function may do. */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ARCHIVE_PREFIX } from '../ops/upkeep-archive.ts';
import type { TaskLaneResources } from './contracts.ts';
import { acknowledgeBucketControls, PRIVATE_BUCKET } from './state.ts';

/**
 * Days an archived dead letter is kept: a year, like the consumers' logs,
 * for audits of rejected tasks.
 */
export const ARCHIVE_RETENTION_DAYS = 365;

/** Days an overwritten archive object stays as an older version. */
const ARCHIVE_VERSION_RETENTION_DAYS = 30;

/**
 * The archive of dead letters: encrypted with the pipeline's key, private,
 * TLS only, versioned, its accesses logged like the backup bucket's.
 */
export function createArchiveBucket(
  scope: Construct,
  key: kms.IKey,
  accessLogBucket: s3.IBucket | undefined,
): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'ArchiveBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    ...PRIVATE_BUCKET,
    serverAccessLogsBucket: accessLogBucket,
    serverAccessLogsPrefix: 'dead-letter-archive/',
    lifecycleRules: [
      {
        expiration: Duration.days(ARCHIVE_RETENTION_DAYS),
        noncurrentVersionExpiration: Duration.days(
          ARCHIVE_VERSION_RETENTION_DAYS,
        ),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
  });
  acknowledgeBucketControls(bucket, 'dead-letter archive');
  return bucket;
}

/** What the upkeep function works on. */
export interface UpkeepAccess {
  readonly lanes: readonly TaskLaneResources[];
  readonly statusOutboxTable: dynamodb.ITable;
  readonly alarmTopic: sns.ITopic;
  readonly key: kms.IKey;
  readonly archiveBucket: s3.IBucket;
}

/**
 * Least privilege, each action named: scan the outbox; receive, delete and
 * release messages of the dead-letter queues; read and write archive
 * objects; publish to the alarm topic; use the keys for those.
 */
export function grantUpkeepAccess(
  fn: lambda.IFunction,
  access: UpkeepAccess,
): void {
  const allow = (actions: string[], resources: string[]) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));

  allow(['dynamodb:Scan'], [access.statusOutboxTable.tableArn]);
  allow(
    ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
    access.lanes.map((lane) => lane.deadLetterQueue.queueArn),
  );
  const bucket = access.archiveBucket;
  allow(
    ['s3:GetObject', 's3:PutObject'],
    [bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
  );
  // S3 answers a read of a missing object with 404 only to a principal
  // that may list the bucket, and with 403 to others; the archive must
  // tell a first write of the day from a denied read.
  allow(['s3:ListBucket'], [bucket.bucketArn]);
  allow(['sns:Publish'], [access.alarmTopic.topicArn]);
  allow(
    ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
    keyArns(access),
  );
  acknowledgeArchiveObjects(fn, bucket);
}

/** Why the function may read and write any archive object. */
function acknowledgeArchiveObjects(
  fn: lambda.IFunction,
  bucket: s3.IBucket,
): void {
  if (!fn.role) return;
  const arn = nagForm(Stack.of(fn).resolve(bucket.bucketArn));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arn}/${ARCHIVE_PREFIX}*]`,
    reason:
      'Archive objects are named by day and dead-letter queue, so their ' +
      'keys are not known at deploy time; the grant covers the ' +
      `${ARCHIVE_PREFIX} prefix of the archive bucket only.`,
  });
}

/**
 * How cdk-nag prints a resolved ARN: `<LogicalId.Arn>` for an attribute
 * of a resource in the stack, the ARN itself for an imported bucket.
 */
export function nagForm(resolved: unknown): string {
  const getAtt = (resolved as { 'Fn::GetAtt'?: [string, string] })?.[
    'Fn::GetAtt'
  ];
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
}

/** The pipeline's key, and the archive's when it has another. */
function keyArns(access: UpkeepAccess): string[] {
  const arns = [access.key.keyArn];
  const archiveKey = access.archiveBucket.encryptionKey;
  if (archiveKey && archiveKey !== access.key) arns.push(archiveKey.keyArn);
  return arns;
}
