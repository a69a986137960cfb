import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  DEFAULT_MAX_INVALID_AGE_DAYS,
  MAX_INVALID_AGE_DAYS,
  UPKEEP_ENV,
  UPKEEP_TIMEOUT_SECONDS,
} from '../ops/upkeep-config.ts';
import { assertPrefix } from '../queue-names.ts';
import {
  acknowledgeNoVpc,
  bundledEntry,
  ownLogsAndRole,
} from './consumer-function.ts';
import type { TaskLaneResources } from './contracts.ts';
import {
  createArchiveBucket,
  grantUpkeepAccess,
  nagForm,
} from './upkeep-access.ts';

const HANDLER_ENTRY = fileURLToPath(
  new URL('../../lambdas/upkeep/handler.ts', import.meta.url),
);

/** 06:00 UTC every day: yesterday is over everywhere in Europe and Africa. */
export const DEFAULT_UPKEEP_SCHEDULE = scheduler.ScheduleExpression.cron({
  minute: '0',
  hour: '6',
});

/** Props of the daily upkeep. */
export interface PipelineUpkeepProps {
  /** Start of the schedule's and alarm's names. */
  readonly prefix: string;
  /** The task types whose dead-letter queues are cleaned. */
  readonly lanes: readonly TaskLaneResources[];
  /** The status outbox the summary reads. */
  readonly statusOutboxTable: dynamodb.ITable;
  /** Where the summary is published: the pipeline's alarm topic. */
  readonly alarmTopic: sns.ITopic;
  /** The pipeline's key: outbox, queues, topic, logs and a new archive. */
  readonly key: kms.IKey;
  /**
   * Bucket the dead-lettered invalid tasks are archived to, under
   * `dead-letters/`.
   * @default - a new bucket encrypted with `key`, versioned, private,
   *   TLS only, objects kept 365 days, logging to `accessLogBucket`
   */
  readonly archiveBucket?: s3.IBucket;
  /**
   * Receives the server access logs of the new archive bucket; required
   * when `archiveBucket` is not given.
   * @default - none
   */
  readonly accessLogBucket?: s3.IBucket;
  /**
   * Days an invalid task stays in its dead-letter queue before it is
   * archived and removed: 1-14 days (the queues keep messages 14 days).
   * @default 7
   */
  readonly maxInvalidAgeDays?: number;
  /**
   * When the upkeep runs. It summarises the previous UTC day, so a time
   * after midnight UTC suits.
   * @default - cron(0 6 * * ? *), 06:00 UTC daily
   */
  readonly schedule?: scheduler.ScheduleExpression;
}

/**
 * The daily upkeep (R22): a function that a schedule runs once a day to
 * summarise the previous day (log line and alarm topic) and to archive,
 * then remove, the invalid tasks dead-lettered longer ago than
 * `maxInvalidAgeDays`. An alarm tells the alarm topic when a run fails.
 *
 * @example
 * new PipelineUpkeep(this, 'Upkeep', {
 *   prefix: 'tasklane',
 *   lanes,
 *   statusOutboxTable: state.statusOutboxTable,
 *   alarmTopic: monitoring.alarmTopic,
 *   key: state.key,
 *   accessLogBucket: state.accessLogBucket,
 * });
 */
export class PipelineUpkeep extends Construct {
  /** The function a schedule invokes daily. */
  readonly function: nodejs.NodejsFunction;
  /** The schedule `<prefix>-daily-upkeep`. */
  readonly schedule: scheduler.Schedule;
  /** Where dead letters are archived. */
  readonly archiveBucket: s3.IBucket;
  /** `<prefix>-daily-upkeep-errors`: a run failed. */
  readonly errorAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PipelineUpkeepProps) {
    super(scope, id);
    const maxAgeDays = checkProps(props);
    this.archiveBucket =
      props.archiveBucket ??
      createArchiveBucket(this, props.key, props.accessLogBucket);

    this.function = this.createFunction(props, maxAgeDays);
    grantUpkeepAccess(this.function, {
      ...props,
      archiveBucket: this.archiveBucket,
    });
    this.schedule = this.createSchedule(props);
    this.errorAlarm = this.createErrorAlarm(props);
  }

  private createFunction(
    props: PipelineUpkeepProps,
    maxAgeDays: number,
  ): nodejs.NodejsFunction {
    const { logGroup, role } = ownLogsAndRole(this, {
      logsId: 'Logs',
      roleId: 'Role',
      key: props.key,
      description: `Daily upkeep of the ${props.prefix} pipeline`,
    });

    const fn = new nodejs.NodejsFunction(this, 'Function', {
      ...bundledEntry(HANDLER_ENTRY),
      description: `Daily summary and dead-letter clean-up of ${props.prefix}`,
      // A scan page is ~1 MB; 5,000 held dead letters of a few KiB each.
      memorySize: 512,
      timeout: Duration.seconds(UPKEEP_TIMEOUT_SECONDS),
      role,
      logGroup,
      environment: upkeepEnvironment(props, this.archiveBucket, maxAgeDays),
      // A failed run is tried again twice, a minute or more apart: a run
      // archives before it deletes, so a repeat loses nothing.
      retryAttempts: 2,
    });
    acknowledgeNoVpc(
      fn,
      'The upkeep reaches only AWS APIs (DynamoDB, SQS, SNS, S3), over ' +
        'TLS with IAM authentication, once a day, and is invoked by the ' +
        'scheduler alone; a VPC would add NAT or an interface endpoint ' +
        'per service and zone for no control gained.',
    );
    return fn;
  }

  private createSchedule(props: PipelineUpkeepProps): scheduler.Schedule {
    const role = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
      description: `Invokes the daily upkeep of the ${props.prefix} pipeline`,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagForm(
        Stack.of(this).resolve(this.function.functionArn),
      )}:*]`,
      reason:
        'The scheduler may invoke the upkeep function and its versions ' +
        'and aliases, that one function only.',
    });
    return new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `${props.prefix}-daily-upkeep`,
      description: `Daily summary and dead-letter clean-up of ${props.prefix}`,
      schedule: props.schedule ?? DEFAULT_UPKEEP_SCHEDULE,
      target: new LambdaInvoke(this.function, {
        role,
        // Retries of the invocation itself (throttled, Lambda busy) for up
        // to an hour; the function retries its own failures.
        retryAttempts: 5,
        maxEventAge: Duration.hours(1),
      }),
    });
  }

  private createErrorAlarm(props: PipelineUpkeepProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: `${props.prefix}-daily-upkeep-errors`,
      alarmDescription:
        'R22 daily upkeep: a run failed, so the daily summary or the ' +
        "clean-up of invalid tasks is missing. Read the function's " +
        'error log; see docs/runbook.md#upkeep-errors.',
      metric: this.function.metricErrors({
        period: Duration.hours(1),
        statistic: 'Sum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(props.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}

function upkeepEnvironment(
  props: PipelineUpkeepProps,
  archiveBucket: s3.IBucket,
  maxAgeDays: number,
): Record<string, string> {
  const stack = Stack.of(props.statusOutboxTable);
  const urls = props.lanes.map((lane) => lane.deadLetterQueue.queueUrl);
  return {
    [UPKEEP_ENV.statusOutboxTable]: props.statusOutboxTable.tableName,
    [UPKEEP_ENV.deadLetterQueueUrls]: stack.toJsonString(urls),
    [UPKEEP_ENV.alarmTopicArn]: props.alarmTopic.topicArn,
    [UPKEEP_ENV.archiveBucket]: archiveBucket.bucketName,
    [UPKEEP_ENV.maxInvalidAgeDays]: String(maxAgeDays),
    POWERTOOLS_SERVICE_NAME: 'tasklane',
    NODE_OPTIONS: '--enable-source-maps',
  };
}

/** Checks the props; returns the age limit with its default. */
function checkProps(props: PipelineUpkeepProps): number {
  assertPrefix(props.prefix);
  if (props.lanes.length === 0) {
    throw new Error('upkeep lanes must name at least one task type (got 0)');
  }
  if (!props.archiveBucket && !props.accessLogBucket) {
    throw new Error(
      'upkeep accessLogBucket must be given when archiveBucket is not: ' +
        'the new archive bucket logs its accesses there (got neither)',
    );
  }
  const days = props.maxInvalidAgeDays ?? DEFAULT_MAX_INVALID_AGE_DAYS;
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_INVALID_AGE_DAYS) {
    throw new RangeError(
      `upkeep maxInvalidAgeDays must be a whole number of days from 1 to ` +
        `${MAX_INVALID_AGE_DAYS} (got ${days})`,
    );
  }
  return days;
}
