import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CALLBACK_ENV } from '../callbacks/env.ts';
import { SWEEP_EVENT } from '../callbacks/sweep.ts';
import { resourceNames } from '../queue-names.ts';
import {
  allowInvoke,
  createSchedulerRole,
  grantDispatchAccess,
  grantNotifyAccess,
  type NotifyAccess,
  secretId,
} from './callbacks-access.ts';
import {
  CALLBACK_METRICS,
  callbackWidgets,
  createCallbackAlarms,
} from './callbacks-alarms.ts';
import {
  type CallbackSettings,
  checkCallbackProps,
  durationText,
} from './callbacks-checks.ts';
import {
  createCallbackDeadLetterQueue,
  createDispatcherFunction,
  createSigningSecret,
  createTargetsTable,
} from './callbacks-resources.ts';
import { METRICS_NAMESPACE } from './contracts.ts';

export { DISPATCHER_TIMEOUT } from './callbacks-resources.ts';

/** Props of the callback deliveries. */
export interface PipelineCallbacksProps {
  /** Start of every resource and alarm name. */
  readonly prefix: string;
  /** Encrypts the targets table, the dead-letter queue, secret and logs. */
  readonly key: kms.IKey;
  /** The status outbox, with its index of pending statuses by target. */
  readonly statusOutboxTable: dynamodb.ITable;
  /** The topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Least time between two requests to one callback target: 1 s to 1 h.
   * @default Duration.minutes(1), as R11 asks
   */
  readonly interval?: Duration;
  /**
   * Age (since the task finished) after which a status that could not be
   * delivered goes to the callback dead-letter queue: 1 h to 13 days (the
   * status outbox keeps a task 14 days).
   * @default Duration.hours(24)
   */
  readonly maxAge?: Duration;
  /**
   * How long a status may wait for its callback before the alarm fires:
   * 1 min to 24 h. Keep it above the interval plus a minute (the scheduler
   * may fire a minute late), or synth warns.
   * @default Duration.minutes(5)
   */
  readonly maxStatusWait?: Duration;
  /**
   * Hosts callback targets may name; `*.example.com` matches subdomains.
   * @default - any host whose addresses are all public
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The signing key, a secret whose value is `{"keyId","secret"}` with a
   * secret of at least 16 characters. The dispatcher is granted the key
   * the secret names; an imported secret names none, so grant it
   * kms:Decrypt on a key other than `key` yourself.
   * @default - a new secret encrypted with `key`: key id `k1` and 48
   *   generated letters and digits
   */
  readonly secret?: secretsmanager.ISecret;
}

/** How often the dispatcher looks for pending targets nobody scheduled. */
const SWEEP_RATE = 'rate(5 minutes)';

/**
 * The callback deliveries of a pipeline (R11): the callback targets table
 * that throttles each target, the schedule group whose one-time schedules
 * time the next delivery (encrypted with the pipeline's key), the role
 * the scheduler invokes the dispatcher with, the dispatcher function, a
 * recurring sweep schedule that catches deliveries nobody scheduled, its
 * signing secret, the callback dead-letter queue, and four alarms on the
 * alarm topic.
 *
 * Consumers that write statuses with a callback target take
 * `consumerEnvironment()` and `grantNotify()`.
 *
 * @example
 * const callbacks = new PipelineCallbacks(this, 'Callbacks', {
 *   prefix: 'tasklane',
 *   key: state.key,
 *   statusOutboxTable: state.statusOutboxTable,
 *   alarmTopic: monitoring.alarmTopic,
 * });
 * for (const [name, value] of Object.entries(callbacks.consumerEnvironment()))
 *   consumer.addEnvironment(name, value);
 * callbacks.grantNotify(consumer);
 */
export class PipelineCallbacks extends Construct {
  /** `<prefix>-callback-targets`: per target, its throttle and lease. */
  readonly targetsTable: dynamodb.Table;
  /** `<prefix>-callbacks-dlq`: statuses that will not be delivered. */
  readonly deadLetterQueue: sqs.Queue;
  /** `<prefix>-callbacks`: one one-time schedule per pending delivery. */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Assumed by EventBridge Scheduler to invoke the dispatcher. */
  readonly schedulerRole: iam.Role;
  /** Sends the pending statuses of one target per invocation. */
  readonly dispatcher: nodejs.NodejsFunction;
  /**
   * `<prefix>-callbacks-sweep`: every five minutes, schedules a dispatch
   * of each pending target whose firing is overdue (lib/callbacks/sweep.ts).
   */
  readonly sweepSchedule: scheduler.CfnSchedule;
  /** The key callback requests are signed with. */
  readonly signingSecret: secretsmanager.ISecret;
  /** Least time between two requests to one target. */
  readonly interval: Duration;
  /** delivery-failed, status-waiting, dlq-not-empty, dispatcher-errors. */
  readonly alarms: readonly cloudwatch.Alarm[];
  private readonly key: kms.IKey;
  private readonly maxStatusWait: Duration;

  constructor(scope: Construct, id: string, props: PipelineCallbacksProps) {
    super(scope, id);
    const settings = checkCallbackProps(this, props);
    this.interval = settings.interval;
    this.maxStatusWait = settings.maxStatusWait;
    this.key = props.key;
    const names = resourceNames(props.prefix);

    this.targetsTable = createTargetsTable(
      this,
      names.callbackTargetsTable,
      props.key,
    );
    this.deadLetterQueue = createCallbackDeadLetterQueue(
      this,
      names.callbacksDeadLetterQueue,
      props.key,
    );
    this.signingSecret =
      props.secret ?? createSigningSecret(this, props.prefix, props.key);
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: `${props.prefix}-callbacks`,
      // The group holds only pending deliveries, which end with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = createSchedulerRole(
      this,
      props.prefix,
      this.scheduleGroup.scheduleGroupArn,
    );

    this.dispatcher = createDispatcherFunction(this, {
      prefix: props.prefix,
      key: props.key,
      environment: this.dispatcherEnvironment(props, settings),
    });
    allowInvoke(this.schedulerRole, this.dispatcher);
    // Schedules' inputs are encrypted with the pipeline's key.
    props.key.grantDecrypt(this.schedulerRole);
    this.sweepSchedule = this.createSweepSchedule(props.prefix);
    grantDispatchAccess(this.dispatcher, {
      ...this.notifyAccess(),
      statusOutboxTable: props.statusOutboxTable,
      deadLetterQueue: this.deadLetterQueue,
      signingSecret: this.signingSecret,
    });
    this.alarms = createCallbackAlarms(this, {
      prefix: props.prefix,
      alarmTopic: props.alarmTopic,
      dispatcher: this.dispatcher,
      deadLetterQueue: this.deadLetterQueue,
      maxStatusWait: settings.maxStatusWait,
    });
  }

  /** The rows of graphs the pipeline dashboard shows of the callbacks. */
  dashboardWidgets(): cloudwatch.IWidget[][] {
    return callbackWidgets({
      deadLetterQueue: this.deadLetterQueue,
      maxStatusWait: this.maxStatusWait,
      alarms: this.alarms,
    });
  }

  /**
   * What a consumer needs for `notifierFromEnv`: the targets table, the
   * schedule group, the dispatcher, the scheduler role and the interval.
   */
  consumerEnvironment(): Record<string, string> {
    return {
      [CALLBACK_ENV.targetsTable]: this.targetsTable.tableName,
      [CALLBACK_ENV.scheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [CALLBACK_ENV.dispatcherArn]: this.dispatcher.functionArn,
      [CALLBACK_ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
      [CALLBACK_ENV.scheduleKeyArn]: this.key.keyArn,
      [CALLBACK_ENV.interval]: durationText(this.interval),
    };
  }

  /**
   * Lets a consumer ask for deliveries: update the targets table, create
   * schedules in the group, pass the scheduler role to EventBridge
   * Scheduler only, use the key for the table and the schedules, and
   * invoke the dispatcher for a delivery that is due at once.
   */
  grantNotify(grantee: iam.IGrantable): void {
    grantNotifyAccess(grantee, this.notifyAccess());
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.dispatcher.functionArn],
    });
  }

  /** The recurring schedule that asks the dispatcher for a sweep. */
  private createSweepSchedule(prefix: string): scheduler.CfnSchedule {
    const sweep = new scheduler.CfnSchedule(this, 'SweepSchedule', {
      name: `${prefix}-callbacks-sweep`,
      groupName: this.scheduleGroup.scheduleGroupName,
      description: 'Dispatches pending callback targets nobody scheduled',
      scheduleExpression: SWEEP_RATE,
      flexibleTimeWindow: { mode: 'OFF' },
      kmsKeyArn: this.key.keyArn,
      state: 'ENABLED',
      target: {
        arn: this.dispatcher.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: JSON.stringify(SWEEP_EVENT),
        // The next sweep comes in five minutes: no use retrying longer.
        retryPolicy: { maximumEventAgeInSeconds: 240, maximumRetryAttempts: 2 },
      },
    });
    // The group's name is a plain string here: name the order explicitly.
    sweep.node.addDependency(this.scheduleGroup);
    return sweep;
  }

  private notifyAccess(): NotifyAccess {
    return {
      key: this.key,
      targetsTable: this.targetsTable,
      scheduleGroupName: this.scheduleGroup.scheduleGroupName,
      schedulerRole: this.schedulerRole,
    };
  }

  /**
   * The dispatcher's variables. Its own ARN is left out: it names itself
   * from its invocation, and the reference would make it depend on itself.
   */
  private dispatcherEnvironment(
    props: PipelineCallbacksProps,
    settings: CallbackSettings,
  ): Record<string, string> {
    const env: Record<string, string> = {
      [CALLBACK_ENV.statusOutboxTable]: props.statusOutboxTable.tableName,
      [CALLBACK_ENV.targetsTable]: this.targetsTable.tableName,
      [CALLBACK_ENV.interval]: durationText(settings.interval),
      [CALLBACK_ENV.maxAge]: durationText(settings.maxAge),
      [CALLBACK_ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [CALLBACK_ENV.scheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [CALLBACK_ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
      [CALLBACK_ENV.scheduleKeyArn]: props.key.keyArn,
      [CALLBACK_ENV.secretArn]: secretId(this.signingSecret),
      POWERTOOLS_SERVICE_NAME: CALLBACK_METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (settings.allowedHosts.length > 0) {
      env[CALLBACK_ENV.allowedHosts] = settings.allowedHosts.join(',');
    }
    return env;
  }
}
