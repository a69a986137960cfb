import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGRESS_ENV } from '../../lambdas/ingress/env.ts';
import type { Priority } from '../envelope.ts';
import { assertPrefix } from '../queue-names.ts';
import type { PipelineIngressProps } from './contracts.ts';
import {
  functionRole,
  grantReadRateLimit,
  grantSend,
} from './ingress-access.ts';
import { createUndeliveredAlarm } from './ingress-alarms.ts';
import { assertAllowlist } from './ingress-allowlist.ts';
import { TaskHttpsApi, type ThrottleSettings } from './ingress-api.ts';
import { TaskEventRoutes } from './ingress-events.ts';

export {
  OPEN_ENDPOINT_WARNING,
  STAGE_NAME,
  type ThrottleSettings,
  UNREACHABLE_ENDPOINT_WARNING,
} from './ingress-api.ts';

const HANDLER_ENTRY = fileURLToPath(
  new URL('../../lambdas/ingress/handler.ts', import.meta.url),
);

/** The most a queue may hold under the standard (R4). */
const MAX_QUEUE_CAPACITY = 10_000;

/** Policies that keep TLS 1.2 or newer on a regional endpoint (R16). */
const REGIONAL_TLS12_POLICIES: readonly apigateway.SecurityPolicy[] = [
  apigateway.SecurityPolicy.TLS_1_2,
  apigateway.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09,
  apigateway.SecurityPolicy.TLS13_1_2_PQ_2025_09,
  apigateway.SecurityPolicy.TLS13_1_3_2025_09,
  apigateway.SecurityPolicy.TLS13_1_3_FIPS_2025_09,
];

/** Settings of the ingress beyond the shared contract. */
export interface PipelineIngressOptions extends PipelineIngressProps {
  /**
   * The topic the alarm on the undelivered queue notifies: the pipeline's
   * alarm topic.
   */
  readonly alarmTopic: sns.ITopic;
  /**
   * Request rates of the HTTPS endpoint, all senders together. The rate is
   * 1 or more requests per second, the burst 0 or more requests; both
   * within the account's API Gateway quota (10,000/s, burst 5,000).
   * @default - 1,000 requests per second, bursts of 2,000
   */
  readonly throttle?: ThrottleSettings;
  /**
   * TLS policy of the HTTPS endpoint: one for regional endpoints that
   * refuses TLS 1.0 and 1.1.
   * @default SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09 (TLS 1.3 and 1.2,
   *   forward secrecy, hybrid post-quantum key exchange)
   */
  readonly securityPolicy?: apigateway.SecurityPolicy;
  /**
   * Whether to set the account's API Gateway CloudWatch role, which access
   * and execution logs need. It is one setting per account and region:
   * turn this off when another stack already manages it.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * Entry file of the ingress function. Its handler must know the task
   * types of the deployment: pass an entry like the default one that hands
   * its own registry to `createProducer`.
   * @default - lambdas/ingress/handler.ts, for the built-in task types
   */
  readonly handlerEntry?: string;
  /**
   * ARN of a WAFv2 web ACL (regional scope) for the HTTPS endpoint's stage.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
}

/**
 * The ways into the pipeline besides SendMessage (R3): an EventBridge bus
 * whose rules route task events to the task queues, and an HTTPS endpoint
 * for producers outside AWS that validates each task, enforces the queue
 * capacity (R4) and enqueues it. Both admit only the sender allowlist (R17).
 *
 * @example
 * const ingress = new PipelineIngress(this, 'Ingress', {
 *   prefix: 'tasklane',
 *   lanes,
 *   key,
 *   allowlist: { cidrs: ['203.0.113.0/24'], vpcEndpointIds: [] },
 *   queueCapacity: 10_000,
 *   alarmTopic: monitoring.alarmTopic,
 * });
 */
export class PipelineIngress extends Construct {
  /** The bus `<prefix>-tasks` producers publish task events to. */
  readonly bus: events.IEventBus;
  /** The routing rules, by task type and priority. */
  readonly rules: ReadonlyMap<string, Readonly<Record<Priority, events.Rule>>>;
  /** Task events no rule could route or deliver. */
  readonly undeliveredQueue: sqs.IQueue;
  /** `<prefix>-ingress-undelivered-events`: the undelivered queue is not empty. */
  readonly undeliveredAlarm: cloudwatch.Alarm;
  /** The REST API with `POST /tasks`. */
  readonly api: apigateway.RestApi;
  /** The function behind `POST /tasks`. */
  readonly ingressFunction: lambda.IFunction;
  /** Where senders POST tasks. */
  readonly tasksUrl: string;

  constructor(scope: Construct, id: string, props: PipelineIngressOptions) {
    super(scope, id);
    assertProps(props);

    const routes = new TaskEventRoutes(this, 'Events', props);
    this.bus = routes.bus;
    this.rules = routes.rules;
    this.undeliveredQueue = routes.undeliveredQueue;
    this.undeliveredAlarm = createUndeliveredAlarm(this, {
      prefix: props.prefix,
      queue: routes.undeliveredQueue,
      alarmTopic: props.alarmTopic,
    });

    const fn = ingressFunction(this, props);
    this.ingressFunction = fn;
    const https = new TaskHttpsApi(this, 'Https', {
      prefix: props.prefix,
      allowlist: props.allowlist,
      handler: new apigateway.LambdaIntegration(fn, {
        proxy: true,
        // No test-invoke permission: the function is reached by the stage.
        allowTestInvoke: false,
      }),
      throttle: props.throttle ?? { rateLimit: 1_000, burstLimit: 2_000 },
      securityPolicy:
        props.securityPolicy ??
        apigateway.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09,
      cloudWatchRole: props.cloudWatchRole ?? true,
      key: props.key,
      webAclArn: props.webAclArn,
    });
    this.api = https.api;
    this.tasksUrl = https.api.urlForPath('/tasks');
  }
}

// Bundled here with the local esbuild: minified ESM for Node.js 24.
const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  target: 'node24',
  mainFields: ['module', 'main'],
  // Lets bundled CommonJS code call `require` inside an ES module.
  banner:
    "import { createRequire } from 'node:module';" +
    'const require = createRequire(import.meta.url);',
};

function ingressFunction(
  scope: Construct,
  props: PipelineIngressOptions,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, 'FunctionLogs', {
    retention: logs.RetentionDays.ONE_YEAR,
    encryptionKey: props.key,
  });
  const fn = new nodejs.NodejsFunction(scope, 'Function', {
    entry: props.handlerEntry ?? HANDLER_ENTRY,
    handler: 'handler',
    description: `Accepts tasks over HTTPS for the ${props.prefix} pipeline`,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    // Parse, validate, one cached depth read, one send: 256 MB is plenty.
    memorySize: 256,
    timeout: Duration.seconds(10),
    environment: {
      [INGRESS_ENV.prefix]: props.prefix,
      [INGRESS_ENV.capacity]: String(props.queueCapacity),
      POWERTOOLS_SERVICE_NAME: 'tasklane',
      NODE_OPTIONS: '--enable-source-maps',
    },
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup,
    role: functionRole(scope, props.prefix, logGroup),
    bundling: BUNDLING,
  });
  grantSend(fn, props);
  grantReadRateLimit(fn, props.prefix);
  Validations.of(fn).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      'The ingress function reaches only SQS and one SSM parameter, over ' +
      'TLS with IAM authentication, and is invoked by API Gateway alone; ' +
      'a VPC would add NAT or an SQS and an SSM endpoint per zone, and ' +
      'cold-start latency on the request path, for no control gained.',
  });
  return fn;
}

function assertProps(props: PipelineIngressOptions): void {
  assertPrefix(props.prefix);
  if (props.lanes.length === 0) {
    throw new Error('ingress lanes must name at least one task type (got 0)');
  }
  const capacity = props.queueCapacity;
  const whole = Number.isSafeInteger(capacity);
  if (!whole || capacity < 1 || capacity > MAX_QUEUE_CAPACITY) {
    throw new RangeError(
      `ingress queueCapacity must be a whole number of messages from 1 ` +
        `to ${MAX_QUEUE_CAPACITY} (got ${capacity})`,
    );
  }
  assertAllowlist(props.allowlist);
  if (props.throttle) assertThrottle(props.throttle);
  const policy = props.securityPolicy;
  if (policy !== undefined && !REGIONAL_TLS12_POLICIES.includes(policy)) {
    throw new Error(
      `ingress securityPolicy must keep TLS 1.2 or newer on a regional ` +
        `endpoint: one of ${REGIONAL_TLS12_POLICIES.join(', ')} ` +
        `(got ${policy})`,
    );
  }
}

function assertThrottle({ rateLimit, burstLimit }: ThrottleSettings): void {
  if (!Number.isFinite(rateLimit) || rateLimit < 1) {
    throw new RangeError(
      `ingress throttle.rateLimit must be 1 or more requests per second ` +
        `(got ${rateLimit})`,
    );
  }
  if (!Number.isSafeInteger(burstLimit) || burstLimit < 0) {
    throw new RangeError(
      `ingress throttle.burstLimit must be a whole number of requests, ` +
        `0 or more (got ${burstLimit})`,
    );
  }
}
