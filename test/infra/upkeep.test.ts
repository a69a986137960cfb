import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { UPKEEP_ENV } from '../../lib/ops/upkeep-config.ts';
import {
  build,
  CONTEXT,
  statementsOf,
  validationFindings,
} from '../helpers/upkeep-stack.ts';

describe('PipelineUpkeep schedule', () => {
  it('runs the function at 06:00 UTC daily by default', () => {
    // GIVEN / WHEN
    const { stack, upkeep, idOf } = build();

    // THEN
    Template.fromStack(stack).hasResourceProperties(
      'AWS::Scheduler::Schedule',
      {
        Name: 'tl-daily-upkeep',
        ScheduleExpression: 'cron(0 6 * * ? *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [idOf(upkeep.function), 'Arn'] },
          RetryPolicy: {
            MaximumEventAgeInSeconds: 3600,
            MaximumRetryAttempts: 5,
          },
        }),
      },
    );
  });

  it('takes another schedule expression', () => {
    // GIVEN
    const schedule = scheduler.ScheduleExpression.cron({
      minute: '30',
      hour: '2',
    });

    // WHEN
    const { stack } = build({ schedule });

    // THEN
    Template.fromStack(stack).hasResourceProperties(
      'AWS::Scheduler::Schedule',
      { ScheduleExpression: 'cron(30 2 * * ? *)' },
    );
  });

  it('lets the scheduler invoke that function only', () => {
    // GIVEN / WHEN
    const { stack, upkeep, idOf } = build();

    // THEN
    const template = Template.fromStack(stack);
    const fnArn = { 'Fn::GetAtt': [idOf(upkeep.function), 'Arn'] };
    expect(statementsOf(template, 'UpkeepScheduleRole')).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }],
      },
    ]);
  });
});

describe('PipelineUpkeep function', () => {
  it('runs on nodejs24.x, arm64, with its settings in the environment', () => {
    // GIVEN / WHEN
    const { stack } = build({ maxInvalidAgeDays: 3 });

    // THEN
    const template = Template.fromStack(stack);
    const ref = (prefix: string) =>
      Match.objectLike({
        Ref: Match.stringLikeRegexp(`^${prefix}`),
      });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 600,
      Environment: {
        Variables: {
          [UPKEEP_ENV.statusOutboxTable]: ref('Outbox'),
          [UPKEEP_ENV.deadLetterQueueUrls]: {
            'Fn::Join': [
              '',
              [
                '["',
                ref('ordernotificationdlq'),
                '","',
                ref('databackupdlq'),
                '"]',
              ],
            ],
          },
          [UPKEEP_ENV.alarmTopicArn]: ref('Alarms'),
          [UPKEEP_ENV.archiveBucket]: ref('UpkeepArchiveBucket'),
          [UPKEEP_ENV.maxInvalidAgeDays]: '3',
          POWERTOOLS_SERVICE_NAME: 'tasklane',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('keeps invalid tasks 7 days by default', () => {
    // GIVEN / WHEN
    const { stack } = build();

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ [UPKEEP_ENV.maxInvalidAgeDays]: '7' }),
      },
    });
  });

  it('grants each action it uses by name, on its resources only', () => {
    // GIVEN / WHEN
    const { stack, upkeep, deps, idOf } = build();

    // THEN
    const arn = (c: IConstruct) => ({ 'Fn::GetAtt': [idOf(c), 'Arn'] });
    const grant = (action: string | string[], resource: unknown) => ({
      Action: action,
      Effect: 'Allow',
      Resource: resource,
    });
    const statements = statementsOf(Template.fromStack(stack), 'UpkeepRole');
    expect(statements).toEqual([
      grant(
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        arn(upkeep.node.findChild('Logs')),
      ),
      grant('dynamodb:Scan', arn(deps.statusOutboxTable)),
      grant(
        [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ],
        deps.lanes.map((lane) => arn(lane.deadLetterQueue)),
      ),
      grant(['s3:GetObject', 's3:PutObject'], {
        'Fn::Join': ['', [arn(upkeep.archiveBucket), '/dead-letters/*']],
      }),
      grant('s3:ListBucket', arn(upkeep.archiveBucket)),
      grant('sns:Publish', { Ref: idOf(deps.alarmTopic) }),
      grant(
        ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
        arn(deps.key),
      ),
    ]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('alarms on the alarm topic when a run fails', () => {
    // GIVEN / WHEN
    const { stack, upkeep, deps, idOf } = build();

    // THEN
    const topic = { Ref: idOf(deps.alarmTopic) };
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tl-daily-upkeep-errors',
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: idOf(upkeep.function) } },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });
});

describe('PipelineUpkeep archive bucket', () => {
  it('creates a private, versioned bucket under the key, logged and expiring', () => {
    // GIVEN / WHEN
    const { stack, deps, idOf } = build();

    // THEN
    const template = Template.fromStack(stack);
    const key = idOf(deps.key);
    const logs = idOf(deps.accessLogBucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] },
            },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logs },
        LogFilePrefix: 'dead-letter-archive/',
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            Status: 'Enabled',
          }),
        ],
      },
    });
  });

  it('uses a given bucket instead of creating one', () => {
    // GIVEN
    const app = new App({ context: CONTEXT });
    const other = new Stack(app, 'Archive', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const archiveBucket = s3.Bucket.fromBucketName(other, 'B', 'my-archive');

    // WHEN
    const { stack, upkeep, deps, idOf } = build({ archiveBucket }, app);

    // THEN
    const template = Template.fromStack(stack);
    expect(upkeep.archiveBucket).toBe(archiveBucket);
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toEqual([
      idOf(deps.accessLogBucket),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [UPKEEP_ENV.archiveBucket]: 'my-archive',
        }),
      },
    });
  });
});

describe('PipelineUpkeep props', () => {
  it.each([0, 15, 2.5])('throws when maxInvalidAgeDays is %s', (days) => {
    // GIVEN / WHEN / THEN
    expect(() => build({ maxInvalidAgeDays: days })).toThrow(
      new RegExp(
        `maxInvalidAgeDays must be a whole number of days from 1 to 14 \\(got ${days}\\)`,
      ),
    );
  });

  it('throws when neither archive nor access log bucket is given', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ accessLogBucket: undefined })).toThrow(
      /accessLogBucket must be given when archiveBucket is not/,
    );
  });

  it('throws when no lane is given', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ lanes: [] })).toThrow(
      /lanes must name at least one task type \(got 0\)/,
    );
  });
});

describe('PipelineUpkeep checks', () => {
  it('leaves no cdk-nag or guard finding of its own unacknowledged', () => {
    // GIVEN / WHEN
    const findings = validationFindings();

    // THEN
    const ours = findings.filter((v) =>
      v.violatingConstructs?.some((c) =>
        c.constructPath?.startsWith('Test/Upkeep/'),
      ),
    );
    expect(findings.length).toBeGreaterThan(0);
    expect(ours.map((v) => v.ruleName)).toEqual([]);
  });
});
