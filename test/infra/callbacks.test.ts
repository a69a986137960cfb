import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  App,
  type CfnElement,
  Duration,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTiming } from '../../lib/callbacks/config.ts';
import { CALLBACK_ENV } from '../../lib/callbacks/env.ts';
import {
  DISPATCHER_TIMEOUT,
  PipelineCallbacks,
  type PipelineCallbacksProps,
} from '../../lib/infra/callbacks.ts';
import { WAIT_BELOW_INTERVAL_WARNING } from '../../lib/infra/callbacks-checks.ts';
import { dashboardBody } from '../helpers/monitoring-stack.ts';
import { NO_BUNDLING } from '../helpers/pipeline-stack.ts';

/** A bare stack: a key, an outbox, a topic, a consumer role, callbacks. */
function build(
  props: Partial<PipelineCallbacksProps> = {},
  app = new App({ context: NO_BUNDLING }),
) {
  const stack = new Stack(app, 'Test');
  const key = new kms.Key(stack, 'Key');
  const statusOutboxTable = new dynamodb.Table(stack, 'Outbox', {
    partitionKey: { name: 'taskId', type: dynamodb.AttributeType.STRING },
  });
  const alarmTopic = new sns.Topic(stack, 'Alarms');
  const deps = { prefix: 'tl', key, statusOutboxTable, alarmTopic };
  const callbacks = new PipelineCallbacks(stack, 'Callbacks', {
    ...deps,
    ...props,
  });
  const consumer = new iam.Role(stack, 'Consumer', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  callbacks.grantNotify(consumer);
  const idOf = (c: IConstruct) =>
    stack.getLogicalId(c.node.defaultChild as CfnElement);
  return { app, stack, callbacks, consumer, deps, idOf };
}

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};

/** The statements of the policies attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  return policies
    .filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"Ref":"${roleId}"`),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => [s.Action].flat());

// GIVEN the callbacks with their defaults, WHEN synthesised once
const built = build();
const template = Template.fromStack(built.stack);
const { callbacks, consumer, deps, idOf } = built;

const arn = (c: IConstruct) => ({ 'Fn::GetAtt': [idOf(c), 'Arn'] });
const allow = (action: string | string[], resource: unknown) => ({
  Action: action,
  Effect: 'Allow',
  Resource: resource,
});
const pseudo = (name: string) => ({ Ref: `AWS::${name}` });
const schedulesArn = {
  'Fn::Join': [
    '',
    [
      'arn:',
      pseudo('Partition'),
      ':scheduler:',
      pseudo('Region'),
      ':',
      pseudo('AccountId'),
      ':schedule/tl-callbacks/*',
    ],
  ],
};
/** What grantNotify grants, in order. */
const notifyStatements = [
  allow('dynamodb:UpdateItem', arn(callbacks.targetsTable)),
  allow('scheduler:CreateSchedule', schedulesArn),
  {
    ...allow('iam:PassRole', arn(callbacks.schedulerRole)),
    Condition: {
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    },
  },
  allow(
    ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    arn(deps.key),
  ),
];

describe('PipelineCallbacks resources', () => {
  it('keeps callback targets in an encrypted, protected table', () => {
    // THEN
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'tl-callback-targets',
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: arn(deps.key),
      },
      DeletionProtectionEnabled: true,
    });
  });

  it('makes an encrypted callback dead-letter queue kept 14 days', () => {
    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'tl-callbacks-dlq',
      KmsMasterKeyId: arn(deps.key),
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: idOf(callbacks.deadLetterQueue) }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });

  it('makes the schedule group <prefix>-callbacks', () => {
    // THEN
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', {
      Name: 'tl-callbacks',
    });
  });

  it('generates a signing secret {keyId, secret} under the key', () => {
    // THEN
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: arn(deps.key),
      GenerateSecretString: {
        SecretStringTemplate: '{"keyId":"k1"}',
        GenerateStringKey: 'secret',
        PasswordLength: 48,
        ExcludePunctuation: true,
      },
    });
  });
});

describe('PipelineCallbacks scheduler role', () => {
  it('trusts only schedules of the group in this account', () => {
    // THEN
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': pseudo('AccountId'),
                'aws:SourceArn': arn(callbacks.scheduleGroup),
              },
            },
          },
        ],
      },
    });
  });

  it('may invoke the dispatcher and decrypt schedules, nothing else', () => {
    // THEN
    expect(statementsOf(template, idOf(callbacks.schedulerRole))).toEqual([
      {
        Sid: 'InvokeCallbackDispatcher',
        ...allow('lambda:InvokeFunction', arn(callbacks.dispatcher)),
      },
      allow('kms:Decrypt', arn(deps.key)),
    ]);
  });

  it('sweeps for pending targets every five minutes, encrypted', () => {
    // THEN
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResource('AWS::Scheduler::Schedule', {
      DependsOn: [idOf(callbacks.scheduleGroup)],
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'tl-callbacks-sweep',
      GroupName: 'tl-callbacks',
      ScheduleExpression: 'rate(5 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      KmsKeyArn: arn(deps.key),
      State: 'ENABLED',
      Target: {
        Arn: arn(callbacks.dispatcher),
        RoleArn: arn(callbacks.schedulerRole),
        Input: '{"sweep":"pending-targets"}',
        RetryPolicy: {
          MaximumEventAgeInSeconds: 240,
          MaximumRetryAttempts: 2,
        },
      },
    });
  });
});

describe('PipelineCallbacks dispatcher', () => {
  it('runs on nodejs24.x, arm64, ending before its lease on a target', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
    });
    expect(DISPATCHER_TIMEOUT.toMilliseconds()).toBeLessThan(
      resolveTiming().leaseMs,
    );
  });

  it('reads the names of what it works on from its environment', () => {
    // THEN
    const fn = callbacks.dispatcher.node.defaultChild as lambda.CfnFunction;
    const env = built.stack.resolve(fn.environment);
    expect(env.variables).toEqual({
      [CALLBACK_ENV.statusOutboxTable]: { Ref: idOf(deps.statusOutboxTable) },
      [CALLBACK_ENV.targetsTable]: { Ref: idOf(callbacks.targetsTable) },
      [CALLBACK_ENV.interval]: '1m',
      [CALLBACK_ENV.maxAge]: '24h',
      [CALLBACK_ENV.deadLetterQueueUrl]: {
        Ref: idOf(callbacks.deadLetterQueue),
      },
      [CALLBACK_ENV.scheduleGroup]: 'tl-callbacks',
      [CALLBACK_ENV.schedulerRoleArn]: arn(callbacks.schedulerRole),
      [CALLBACK_ENV.scheduleKeyArn]: arn(deps.key),
      [CALLBACK_ENV.secretArn]: { Ref: idOf(callbacks.signingSecret) },
      POWERTOOLS_SERVICE_NAME: 'tasklane-callbacks',
      POWERTOOLS_METRICS_NAMESPACE: 'Tasklane',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('grants each action it uses by name, on its resources only', () => {
    // THEN
    const role = callbacks.dispatcher.role as iam.Role;
    const outbox = arn(deps.statusOutboxTable);
    const statements = statementsOf(template, idOf(role));
    expect(statements).toEqual([
      allow(
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        arn(callbacks.node.findChild('DispatcherLogs')),
      ),
      ...notifyStatements,
      allow('dynamodb:Query', {
        'Fn::Join': ['', [outbox, '/index/pending-by-target']],
      }),
      allow('dynamodb:Scan', arn(callbacks.targetsTable)),
      allow(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], outbox),
      allow('sqs:SendMessage', arn(callbacks.deadLetterQueue)),
      allow('secretsmanager:GetSecretValue', {
        Ref: idOf(callbacks.signingSecret),
      }),
    ]);
    expect(actionsOf(statements).filter((a) => a.includes('*'))).toEqual([]);
  });
});

describe('PipelineCallbacks dashboard', () => {
  it('graphs statuses, the oldest wait, the dead-letter queue, alarms', () => {
    // GIVEN
    const { stack, callbacks } = build();
    const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard');

    // WHEN
    for (const row of callbacks.dashboardWidgets()) {
      dashboard.addWidgets(...row);
    }

    // THEN
    const widgets = dashboardBody(Template.fromStack(stack)).widgets;
    const byTitle = new Map(
      widgets.map((w) => [
        w.properties.title ?? w.properties.markdown,
        JSON.stringify(w.properties),
      ]),
    );
    const expected: Record<string, string[]> = {
      '## Callbacks (R11)': [],
      'Callback statuses (per minute)': [
        '"CallbackStatusesDelivered","service","tasklane-callbacks"',
        'CallbackStatusesDeadLettered',
        'CallbackDeliveryFailed',
        'CallbackTargetsRescheduled',
      ],
      'Callback wait, oldest status (ms)': [
        'CallbackOldestStatusAge',
        '"stat":"Maximum"',
        '"value":300000',
      ],
      'Callback dead-letter queue depth': [
        'ApproximateNumberOfMessagesVisible',
      ],
      Alarms: ['alarms'],
    };
    expect([...byTitle.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [title, names] of Object.entries(expected)) {
      for (const name of names) expect(byTitle.get(title)).toContain(name);
    }
  });
});

describe('PipelineCallbacks alarms', () => {
  const topic = { Ref: idOf(deps.alarmTopic) };
  const service = [{ Name: 'service', Value: 'tasklane-callbacks' }];

  it.each([
    ['delivery-failed', 'CallbackDeliveryFailed', 'Sum', 0],
    ['status-waiting', 'CallbackOldestStatusAge', 'Maximum', 300_000],
  ])('%s: %s %s above %d', (name, metric, statistic, threshold) => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `tl-callbacks-${name}`,
      AlarmDescription: Match.stringLikeRegexp('^R11 callbacks: '),
      Namespace: 'Tasklane',
      MetricName: metric,
      Dimensions: service,
      Statistic: statistic,
      Period: 300,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  it('alarms while the callback dead-letter queue holds messages', () => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tl-callbacks-dlq-not-empty',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [idOf(callbacks.deadLetterQueue), 'QueueName'],
          },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 0,
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
    });
  });

  it('alarms when the dispatcher fails invocations', () => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tl-callbacks-dispatcher-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: idOf(callbacks.dispatcher) } },
      ],
      Statistic: 'Sum',
      Threshold: 0,
      AlarmActions: [topic],
    });
  });
});

describe('PipelineCallbacks for consumers', () => {
  it('names what notifierFromEnv reads', () => {
    // WHEN
    const env = built.stack.resolve(callbacks.consumerEnvironment());

    // THEN
    expect(env).toEqual({
      [CALLBACK_ENV.targetsTable]: { Ref: idOf(callbacks.targetsTable) },
      [CALLBACK_ENV.scheduleGroup]: 'tl-callbacks',
      [CALLBACK_ENV.dispatcherArn]: arn(callbacks.dispatcher),
      [CALLBACK_ENV.schedulerRoleArn]: arn(callbacks.schedulerRole),
      [CALLBACK_ENV.scheduleKeyArn]: arn(deps.key),
      [CALLBACK_ENV.interval]: '1m',
    });
  });

  it('grants a consumer what asking for a delivery takes, no more', () => {
    // THEN
    expect(statementsOf(template, idOf(consumer))).toEqual([
      ...notifyStatements,
      allow('lambda:InvokeFunction', arn(callbacks.dispatcher)),
    ]);
  });
});

describe('PipelineCallbacks props', () => {
  it('passes an interval, age limit and host allowlist to the dispatcher', () => {
    // GIVEN / WHEN
    const { stack, callbacks } = build({
      interval: Duration.seconds(90),
      maxAge: Duration.hours(6),
      allowedHosts: ['hooks.example.com', '*.Shop.example'],
    });

    // THEN
    const fn = callbacks.dispatcher.node.defaultChild as lambda.CfnFunction;
    expect(stack.resolve(fn.environment).variables).toMatchObject({
      [CALLBACK_ENV.interval]: '90s',
      [CALLBACK_ENV.maxAge]: '6h',
      [CALLBACK_ENV.allowedHosts]: 'hooks.example.com,*.shop.example',
    });
    expect(callbacks.consumerEnvironment()[CALLBACK_ENV.interval]).toBe('90s');
  });

  it('signs with a given secret, read by name when imported by name', () => {
    // GIVEN
    const app = new App({ context: NO_BUNDLING });
    const secret = secretsmanager.Secret.fromSecretNameV2(
      new Stack(app, 'Other'),
      'Secret',
      'callback-key',
    );

    // WHEN
    const { stack, callbacks } = build({ secret }, app);

    // THEN
    expect(callbacks.signingSecret).toBe(secret);
    expect(callbacks.node.tryFindChild('SigningSecret')).toBeUndefined();
    const fn = callbacks.dispatcher.node.defaultChild as lambda.CfnFunction;
    expect(stack.resolve(fn.environment).variables).toMatchObject({
      [CALLBACK_ENV.secretArn]: 'callback-key',
    });
    const policy = callbacks.dispatcher.role?.node.findChild(
      'DefaultPolicy',
    ) as iam.Policy;
    const read = stack
      .resolve(policy.document)
      .Statement.find(
        (s: Statement) => s.Action === 'secretsmanager:GetSecretValue',
      );
    expect(JSON.stringify(read.Resource)).toMatch(
      /:secret:callback-key-\?{6}"\]\]\}$/,
    );
  });

  it.each([
    [
      'an interval under 1 s',
      { interval: Duration.millis(500) },
      /interval must be a number of seconds from 1 to 3600 \(got 0.5\)/,
    ],
    [
      'an interval over 1 h',
      { interval: Duration.hours(2) },
      /interval .* \(got 7200\)/,
    ],
    [
      'an age limit past the outbox retention',
      { maxAge: Duration.days(14) },
      /maxAge must be a number of hours from 1 to 312 \(got 336\)/,
    ],
    [
      'a wait alarm under 1 min',
      { maxStatusWait: Duration.seconds(30) },
      /maxStatusWait .* minutes from 1 to 1440 \(got 0.5\)/,
    ],
    [
      'a URL where a host belongs',
      { allowedHosts: ['https://hooks.example.com'] },
      /allowedHosts must hold host names .* \(got "https:\/\/hooks.example.com"\)/,
    ],
    [
      'a bad prefix',
      { prefix: 'Bad_Prefix' },
      /prefix must be 1-20 lower-case/,
    ],
  ])('refuses %s', (_case, props, error) => {
    // WHEN / THEN
    expect(() => build(props)).toThrow(error);
  });

  it('warns when the wait alarm would fire at the usual interval', () => {
    // GIVEN / WHEN
    const { callbacks } = build({
      interval: Duration.minutes(5),
      maxStatusWait: Duration.minutes(5),
    });

    // THEN
    const warnings = callbacks.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:warning')
      .map((entry) => String(entry.data));
    expect(warnings).toEqual([
      expect.stringContaining(WAIT_BELOW_INTERVAL_WARNING),
    ]);
  });
});

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs?: readonly { constructPath?: string }[];
  readonly reason?: string;
}

describe('PipelineCallbacks under cdk-nag and the Control Tower rules', () => {
  let findings: Violation[];
  let acknowledged: Violation[];

  beforeAll(() => {
    // GIVEN the validation plugins the tasklane app runs
    const outdir = mkdtempSync(join(tmpdir(), 'tasklane-callbacks-'));
    const app = new App({ context: NO_BUNDLING, outdir });
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new CfnGuardValidator(),
    );
    build({}, app);

    // WHEN synthesised: the bare key, table and topic have findings of
    // their own, so synth fails, and the report lists every finding
    try {
      app.synth();
    } catch {
      // Expected.
    }
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: {
        violations: Violation[];
        suppressedViolations?: Violation[];
      }[];
    };
    rmSync(outdir, { recursive: true, force: true });
    findings = report.pluginReports.flatMap((r) => r.violations);
    acknowledged = report.pluginReports.flatMap(
      (r) => r.suppressedViolations ?? [],
    );
  });

  const ours = (v: Violation) =>
    (v.violatingConstructs ?? []).some((c) =>
      /^Test\/(Callbacks|Consumer)\//.test(c.constructPath ?? ''),
    );

  it('find nothing unacknowledged on the callbacks or a notified consumer', () => {
    // THEN
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter(ours).map((v) => v.ruleName)).toEqual([]);
  });

  it('acknowledge the guard rules with reasons', () => {
    // THEN
    const mine = acknowledged.filter(ours);
    expect(mine.map((v) => v.ruleName).sort()).toEqual([
      'lambda_inside_vpc_check',
      'sqs_dlq_check',
    ]);
    for (const violation of mine) {
      expect(violation.reason?.length ?? 0).toBeGreaterThan(40);
    }
  });
});
