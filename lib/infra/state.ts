import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { resourceNames } from '../queue-names.ts';
import {
  IDEMPOTENCY_KEY,
  IDEMPOTENCY_TTL,
  ORDERS_KEY,
  OUTBOX_FINISHED_AT,
  OUTBOX_KEY,
  OUTBOX_PENDING_INDEX,
  OUTBOX_PENDING_TARGET,
  OUTBOX_TTL,
} from '../tables.ts';

/** Props of the pipeline's shared state. */
export interface PipelineStateProps {
  /** Start of every resource name. */
  readonly prefix: string;
}

/** Days the server access logs of the backup bucket are kept. */
const ACCESS_LOG_RETENTION_DAYS = 365;

/** Days an overwritten backup stays as an older version. */
const BACKUP_VERSION_RETENTION_DAYS = 365;

/**
 * What every consumer shares: the customer-managed key, the idempotency,
 * status outbox and orders tables, the backup bucket and the notification
 * topic. Names and key layouts are those the local runtime creates, except
 * the backup bucket's: S3 names are global, so the account and region are
 * appended to `<prefix>-backup` (consumers read the name from the
 * environment, never build it).
 */
export class PipelineState extends Construct {
  /** Encrypts queues, tables, topic, backup bucket and consumer logs. */
  readonly key: kms.Key;
  /** Powertools idempotency records, keyed by the envelope id. */
  readonly idempotencyTable: dynamodb.Table;
  /** One item per task: attempts, errors and its final status. */
  readonly statusOutboxTable: dynamodb.Table;
  /** Orders the built-in `order.notification` checks. */
  readonly ordersTable: dynamodb.Table;
  /** Where `data.backup` copies objects to. */
  readonly backupBucket: s3.Bucket;
  /** Server access logs of the backup bucket. */
  readonly accessLogBucket: s3.Bucket;
  /** Where `order.notification` publishes. */
  readonly notificationTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: PipelineStateProps) {
    super(scope, id);
    const names = resourceNames(props.prefix);

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/${props.prefix}`,
      description: `tasklane ${props.prefix}: queues, tables, topic, logs`,
      enableKeyRotation: true,
    });
    allowLogsToUseKey(this.key);
    limitGrantsToAwsServices(this.key);

    this.idempotencyTable = this.table('IdempotencyTable', {
      tableName: names.idempotencyTable,
      partitionKey: {
        name: IDEMPOTENCY_KEY,
        type: dynamodb.AttributeType.STRING,
      },
      timeToLiveAttribute: IDEMPOTENCY_TTL,
    });
    this.statusOutboxTable = this.table('StatusOutboxTable', {
      tableName: names.statusOutboxTable,
      partitionKey: { name: OUTBOX_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: OUTBOX_TTL,
    });
    this.statusOutboxTable.addGlobalSecondaryIndex({
      indexName: OUTBOX_PENDING_INDEX,
      partitionKey: {
        name: OUTBOX_PENDING_TARGET,
        type: dynamodb.AttributeType.STRING,
      },
      sortKey: {
        name: OUTBOX_FINISHED_AT,
        type: dynamodb.AttributeType.STRING,
      },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.ordersTable = this.table('OrdersTable', {
      tableName: names.ordersTable,
      partitionKey: { name: ORDERS_KEY, type: dynamodb.AttributeType.STRING },
    });

    this.accessLogBucket = this.logBucket();
    this.backupBucket = new s3.Bucket(this, 'BackupBucket', {
      bucketName: `${names.backupBucket}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'backup/',
      lifecycleRules: [
        {
          noncurrentVersionExpiration: Duration.days(
            BACKUP_VERSION_RETENTION_DAYS,
          ),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    acknowledgeBucketControls(this.backupBucket, 'backup');

    this.notificationTopic = new sns.Topic(this, 'NotificationTopic', {
      topicName: names.notificationTopic,
      masterKey: this.key,
      enforceSSL: true,
    });
  }

  /** On-demand, point-in-time recovery, encrypted with the pipeline's key. */
  private table(id: string, props: dynamodb.TableProps): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      ...props,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
    });
  }

  /**
   * S3 delivers server access logs only to buckets with S3-managed
   * encryption, and a log bucket logging to itself would loop.
   */
  private logBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      lifecycleRules: [
        { expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) },
      ],
    });
    const loop =
      'This bucket receives the server access logs of the backup bucket; ' +
      'logging its own accesses into itself would loop.';
    Validations.of(bucket).acknowledge(
      { id: `${GUARD}::s3_bucket_logging_enabled_check`, reason: loop },
      {
        id: `${GUARD}::s3_bucket_default_encryption_kms_check`,
        reason:
          'S3 delivers server access logs only to buckets encrypted with ' +
          'S3-managed keys (SSE-S3), not SSE-KMS.',
      },
    );
    acknowledgeBucketControls(bucket, 'access log');
    return bucket;
  }
}

/** Block public access, TLS 1.2 or newer only, versioned, owner-enforced. */
export const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const;

/** Namespace of the cfn-guard (Control Tower) findings. */
export const GUARD = 'cdk-validator-cfnguard';

/** Controls the pipeline's buckets leave to the deploying team, and why. */
export function acknowledgeBucketControls(
  bucket: s3.Bucket,
  what: string,
): void {
  Validations.of(bucket).acknowledge(
    {
      id: `${GUARD}::s3_event_notifications_enabled_check`,
      reason:
        `Nothing reacts to objects of the ${what} bucket; notifications ` +
        'would need a custom-resource function and a consumer of their own.',
    },
    {
      id: `${GUARD}::s3_bucket_object_lock_enabled_check`,
      reason:
        'Versioning keeps every overwritten object; object lock would also ' +
        'forbid deletes for a retention period, a compliance decision (not ' +
        'reversible in compliance mode) left to the deploying team.',
    },
  );
}

/**
 * Only AWS services may create grants on the key (Control Tower CT.KMS.PR.3):
 * DynamoDB creates grants for its tables; no person or function needs to.
 */
function limitGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: {
          'kms:GrantIsForAWSResource': 'false',
          'aws:PrincipalIsAWSService': 'false',
        },
      },
    }),
  );
}

/**
 * CloudWatch Logs encrypts the consumers' log groups with the key; it may
 * use the key only for log groups of this account and region.
 */
function allowLogsToUseKey(key: kms.Key): void {
  const logGroups = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`;
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [
        new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`),
      ],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': logGroups,
        },
      },
    }),
  );
}
