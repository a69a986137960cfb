/**
 * The resources of the callback deliveries, each encrypted with the
 * pipeline's key, and the findings of cdk-nag and the Control Tower rules
 * they acknowledge, with why.
 */
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CALLBACK_TARGETS_KEY } from '../tables.ts';
import {
  acknowledgeNoVpc,
  bundledEntry,
  ownLogsAndRole,
} from './consumer-function.ts';
import { GUARD } from './state.ts';

const DISPATCHER_ENTRY = fileURLToPath(
  new URL('../../lambdas/callbacks/dispatcher.ts', import.meta.url),
);

/**
 * Time limit of one dispatch. The dispatcher holds a target under a lease
 * of 80 s (twice the 10 s request timeout, plus 60 s: lib/callbacks/
 * config.ts); the invocation must end before the lease does, or a second
 * dispatch could send to the same target while the first still runs.
 */
export const DISPATCHER_TIMEOUT = Duration.seconds(60);

/** The callback targets table: on-demand, recoverable, protected. */
export function createTargetsTable(
  scope: Construct,
  tableName: string,
  key: kms.IKey,
): dynamodb.Table {
  return new dynamodb.Table(scope, 'TargetsTable', {
    tableName,
    partitionKey: {
      name: CALLBACK_TARGETS_KEY,
      type: dynamodb.AttributeType.STRING,
    },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    deletionProtection: true,
  });
}

/** The callback dead-letter queue: TLS only, messages kept 14 days. */
export function createCallbackDeadLetterQueue(
  scope: Construct,
  queueName: string,
  key: kms.IKey,
): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    queueName,
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    // The most SQS keeps a message: two weeks to tell the business system.
    retentionPeriod: Duration.days(14),
  });
  const reason =
    'This is the callback dead-letter queue: the dispatcher sends ' +
    'statuses it will not deliver here, and operators read them; no ' +
    'consumer receives from it, so a queue behind it would stay empty.';
  for (const id of ['AwsSolutions-SQS3', `${GUARD}::sqs_dlq_check`]) {
    Validations.of(queue).acknowledge({ id, reason });
  }
  return queue;
}

/** The signing key: `{"keyId":"k1","secret":<48 letters and digits>}`. */
export function createSigningSecret(
  scope: Construct,
  prefix: string,
  key: kms.IKey,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'SigningSecret', {
    description: `Signing key of the ${prefix} pipeline's callbacks`,
    encryptionKey: key,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ keyId: 'k1' }),
      generateStringKey: 'secret',
      passwordLength: 48,
      // Letters and digits: about 285 bits, and nothing to escape.
      excludePunctuation: true,
    },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Receivers verify callbacks with this key, so a new one must reach ' +
      'them before the dispatcher signs with it: an operator rotates it by ' +
      'writing a new keyId and secret once receivers accept both, which ' +
      'the key id in every request allows. Automatic rotation would make ' +
      'receivers refuse every request until they learnt the new key.',
  });
  return secret;
}

/** What the dispatcher function is built from. */
export interface DispatcherFunctionProps {
  readonly prefix: string;
  readonly key: kms.IKey;
  readonly environment: Record<string, string>;
}

const DISPATCHER_OUTSIDE_VPC =
  "The dispatcher posts to business systems' public HTTPS endpoints, so " +
  'it needs internet egress; in a VPC that takes a NAT gateway per zone. ' +
  'Outside a VPC it also cannot reach any private network, which backs ' +
  'its refusal of private callback addresses.';

/**
 * The dispatcher: nodejs24.x on arm64 like the consumers, with its own
 * role (logs only, until the grants) and log group.
 */
export function createDispatcherFunction(
  scope: Construct,
  props: DispatcherFunctionProps,
): nodejs.NodejsFunction {
  const { logGroup, role } = ownLogsAndRole(scope, {
    logsId: 'DispatcherLogs',
    roleId: 'DispatcherRole',
    key: props.key,
    description: `Callback dispatcher of the ${props.prefix} pipeline`,
  });

  const fn = new nodejs.NodejsFunction(scope, 'Dispatcher', {
    ...bundledEntry(DISPATCHER_ENTRY),
    description: `Sends task statuses to callback targets of ${props.prefix}`,
    // One request of up to 1,000 statuses and its bookkeeping: I/O bound.
    memorySize: 256,
    timeout: DISPATCHER_TIMEOUT,
    role,
    logGroup,
    environment: props.environment,
    // The scheduler invokes asynchronously. A failed dispatch hands its
    // target back and reschedules it; a retry covers a failure of that
    // too, and otherwise finds the target busy or not due.
    retryAttempts: 2,
  });
  acknowledgeNoVpc(fn, DISPATCHER_OUTSIDE_VPC);
  return fn;
}
