import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BACKUP_BUCKET_ENV } from '../../lambdas/tasks/data-backup.ts';
import {
  NOTIFICATION_TOPIC_ENV,
  ORDERS_TABLE_ENV,
} from '../../lambdas/tasks/order-notification.ts';
import { functionTimeoutSeconds } from '../queue-settings.ts';
import type { TaskModule } from '../task-module.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './contracts.ts';
import type { PipelineState } from './state.ts';

/** Lambda runs nodejs24.x; older aws-cdk-lib releases lack the constant. */
export const CONSUMER_RUNTIME =
  lambda.Runtime.NODEJS_24_X ??
  new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS);

/**
 * Memory of a consumer. Lambda gives CPU in proportion to memory, so
 * 1,024 MB has 8 times the CPU of the 128 MB default for loading the 1 MB
 * bundle at a cold start, within the 500 ms of R14. Lower it only when the
 * monthly load test (R22) shows the headroom.
 */
export const CONSUMER_MEMORY_MB = 1024;

/** A consumer's logs are kept a year, for audits of failed tasks. */
const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

// Bundled CommonJS dependencies call require(); an ES module has none.
const REQUIRE_SHIM =
  "import { createRequire as tasklaneCreateRequire } from 'node:module';" +
  'const require = tasklaneCreateRequire(import.meta.url);';

/** Names and key of a function's own log group and role. */
export interface OwnLogsAndRoleProps {
  readonly logsId: string;
  readonly roleId: string;
  readonly key: kms.IKey;
  readonly description: string;
}

/**
 * A log group kept a year and encrypted with the pipeline key, and a role
 * Lambda assumes that may write to that log group and nothing else yet:
 * unlike the default role's AWS-managed policy, which may create and write
 * any log group. The caller adds the function's grants.
 */
export function ownLogsAndRole(scope: Construct, props: OwnLogsAndRoleProps) {
  const logGroup = new logs.LogGroup(scope, props.logsId, {
    retention: LOG_RETENTION,
    encryptionKey: props.key,
  });
  const role = new iam.Role(scope, props.roleId, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  logGroup.grantWrite(role);
  return { logGroup, role };
}

/** What a consumer function is made of. */
export interface ConsumerFunctionProps {
  readonly module: TaskModule;
  readonly state: PipelineState;
  /** Path of the Lambda entry, a module exporting `handler`. */
  readonly entry: string;
  readonly role: iam.IRole;
}

/**
 * The consumer of one task type: a minified ES-module bundle on nodejs24.x,
 * arm64, with its own log group encrypted with the pipeline key.
 */
export function createConsumerFunction(
  scope: Construct,
  props: ConsumerFunctionProps,
): nodejs.NodejsFunction {
  const { module, state } = props;
  const logGroup = new logs.LogGroup(scope, 'ConsumerLogs', {
    retention: LOG_RETENTION,
    encryptionKey: state.key,
  });
  const consumer = new nodejs.NodejsFunction(scope, 'Consumer', {
    ...bundledEntry(props.entry),
    memorySize: CONSUMER_MEMORY_MB,
    timeout: Duration.seconds(functionTimeoutSeconds(module.defaults)),
    role: props.role,
    logGroup,
    description: `tasklane consumer of ${module.taskType}`,
    environment: consumerEnvironment(module.taskType, state),
  });
  acknowledgeNoVpc(consumer);
  return consumer;
}

/**
 * Entry, runtime, architecture and bundling of a tasklane function: a
 * minified ES-module bundle for nodejs24.x on arm64, built with the local
 * esbuild, the AWS SDK included so the deployed code runs the versions
 * tested.
 */
export function bundledEntry(entry: string) {
  const depsLockFilePath = findLockFile(entry);
  return {
    entry,
    handler: 'handler',
    ...(depsLockFilePath && {
      depsLockFilePath,
      projectRoot: dirname(depsLockFilePath),
    }),
    runtime: CONSUMER_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    bundling: {
      minify: true,
      sourceMap: true,
      format: nodejs.OutputFormat.ESM,
      target: 'node24',
      mainFields: ['module', 'main'],
      banner: REQUIRE_SHIM,
      externalModules: [],
      forceDockerBundling: false,
    },
  } satisfies nodejs.NodejsFunctionProps;
}

/** Names the consumer handler and the task modules read from the environment. */
function consumerEnvironment(
  taskType: string,
  state: PipelineState,
): Record<string, string> {
  return {
    // As lambdas/consumer/handler.ts reads them.
    TASKLANE_TASK_TYPE: taskType,
    TASKLANE_IDEMPOTENCY_TABLE: state.idempotencyTable.tableName,
    TASKLANE_STATUS_OUTBOX_TABLE: state.statusOutboxTable.tableName,
    [ORDERS_TABLE_ENV]: state.ordersTable.tableName,
    [NOTIFICATION_TOPIC_ENV]: state.notificationTopic.topicArn,
    [BACKUP_BUCKET_ENV]: state.backupBucket.bucketName,
    POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: '--enable-source-maps',
  };
}

const CONSUMER_OUTSIDE_VPC =
  'The consumer reaches only AWS APIs (SQS, DynamoDB, SNS, S3), over ' +
  'TLS with IAM authentication, and holds no network-reachable ' +
  'resource; a VPC would add NAT or one interface endpoint per service ' +
  'and zone, and cold-start latency, for no control gained.';

/**
 * Why a function runs outside a VPC (Control Tower CT.LAMBDA.PR.3).
 * @default reason - the consumer's
 */
export function acknowledgeNoVpc(
  fn: lambda.Function,
  reason = CONSUMER_OUTSIDE_VPC,
): void {
  Validations.of(fn).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason,
  });
}

/** The lock file nearest the entry, whose folder is the bundle's root. */
function findLockFile(entry: string): string | undefined {
  const names = [
    'package-lock.json',
    'pnpm-lock.yaml',
    'yarn.lock',
    'bun.lock',
  ];
  let dir = dirname(entry);
  for (;;) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
