import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  SenderAllowlist,
  TaskLaneResources,
} from '../../lib/infra/contracts.ts';
import {
  OPEN_ENDPOINT_WARNING,
  PipelineIngress,
  type PipelineIngressOptions,
  UNREACHABLE_ENDPOINT_WARNING,
} from '../../lib/infra/ingress.ts';

const TASK_TYPES = ['order.notification', 'data.backup'];
const ALLOWLIST: SenderAllowlist = {
  cidrs: ['203.0.113.0/24', '198.51.100.7/32'],
  vpcEndpointIds: ['vpce-0a1b2c3d4e5f67890'],
};

const WEB_ACL_ARN =
  'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/senders/0a1b2c3d';

/** Logical ids in the main stack, found once the template exists. */
let app: App;
let template: Template;
let open: Stack;
let vpceOnly: Stack;
let ids: {
  key: string;
  topic: string;
  bus: string;
  undelivered: string;
  fn: string;
  queue: (taskType: string, priority: string) => string;
};

function makeStack(app: App, name: string) {
  const stack = new Stack(app, name, {
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const alarmTopic = new sns.Topic(stack, 'AlarmTopic');
  const lanes = TASK_TYPES.map((taskType) => makeLane(stack, key, taskType));
  return { stack, key, alarmTopic, lanes };
}

/** A lane as the pipeline makes it: encrypted queues and a consumer. */
function makeLane(
  stack: Stack,
  key: kms.IKey,
  taskType: string,
): TaskLaneResources {
  const queue = (suffix: string) =>
    new sqs.Queue(stack, `${taskType}-${suffix}`, {
      queueName: `tasklane-${taskType.replace('.', '-')}-${suffix}`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
    });
  const consumer = new lambda.Function(stack, `${taskType}-consumer`, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  return {
    taskType,
    queues: { high: queue('high'), normal: queue('normal') },
    deadLetterQueue: queue('dlq'),
    consumer,
  };
}

function addIngress(
  app: App,
  name: string,
  options: Partial<PipelineIngressOptions> = {},
) {
  const made = makeStack(app, name);
  new PipelineIngress(made.stack, 'Ingress', {
    prefix: 'tasklane',
    lanes: made.lanes,
    key: made.key,
    allowlist: ALLOWLIST,
    queueCapacity: 10_000,
    alarmTopic: made.alarmTopic,
    ...options,
  });
  return made.stack;
}

beforeAll(() => {
  // GIVEN one app, synthesised once: the main stack has two task types
  // and an allowlist; two more stacks try the allowlist's edge cases.
  // Only the main stack bundles the ingress handler (a few seconds).
  app = new App({ context: { 'aws:cdk:bundling-stacks': ['Main'] } });
  const main = addIngress(app, 'Main');
  open = addIngress(app, 'Open', {
    allowlist: { cidrs: [], vpcEndpointIds: [] },
    webAclArn: WEB_ACL_ARN,
  });
  vpceOnly = addIngress(app, 'VpceOnly', {
    allowlist: { cidrs: [], vpcEndpointIds: ['vpce-0a1b2c3d4e5f67890'] },
  });

  // WHEN
  template = Template.fromStack(main);
  const only = (type: string, props: object = {}) => {
    const found = Object.keys(template.findResources(type, props));
    expect(found).toHaveLength(1);
    return found[0] as string;
  };
  ids = {
    key: only('AWS::KMS::Key'),
    topic: only('AWS::SNS::Topic'),
    bus: only('AWS::Events::EventBus'),
    undelivered: only('AWS::SQS::Queue', {
      Properties: { QueueName: 'tasklane-tasks-undelivered' },
    }),
    fn: only('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x', Architectures: ['arm64'] },
    }),
    queue: (taskType, priority) =>
      only('AWS::SQS::Queue', {
        Properties: {
          QueueName: `tasklane-${taskType.replace('.', '-')}-${priority}`,
        },
      }),
  };
});

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Warnings of a stack, from the assembly already synthesised. */
function warningsOf(stack: Stack): { path: string; text: string }[] {
  const artifact = app.synth().getStackArtifact(stack.artifactId);
  return artifact.messages
    .filter((message) => message.level === 'warning')
    .map((message) => ({ path: message.id, text: String(message.entry.data) }));
}

function ruleFor(taskType: string, priority: string) {
  const rules = template.findResources('AWS::Events::Rule', {
    Properties: {
      EventPattern: {
        detail: { taskType: [taskType], priority: Match.anyValue() },
      },
    },
  });
  const found = Object.entries(rules).filter(([, rule]) => {
    const pattern = rule.Properties.EventPattern.detail.priority;
    return priority === 'high' ? pattern[0] === 'high' : pattern[0] !== 'high';
  });
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown> }];
}

describe('PipelineIngress: EventBridge bus (R3)', () => {
  it('makes the bus <prefix>-tasks, encrypted with the pipeline key', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::EventBus', {
      Name: 'tasklane-tasks',
      KmsKeyIdentifier: arnOf(ids.key),
      DeadLetterConfig: { Arn: arnOf(ids.undelivered) },
    });
  });

  it('has two rules per task type and one for unknown task types', () => {
    // THEN
    template.resourceCountIs('AWS::Events::Rule', TASK_TYPES.length * 2 + 1);
  });

  it.each(TASK_TYPES)(
    'routes high-priority %s events to the high queue',
    (type) => {
      // WHEN
      const [, rule] = ruleFor(type, 'high');

      // THEN
      expect(rule.Properties).toMatchObject({
        EventBusName: { Ref: ids.bus },
        EventPattern: {
          source: ['tasklane.producer'],
          'detail-type': ['Task'],
          detail: { taskType: [type], priority: ['high'] },
        },
        Targets: [
          {
            Arn: arnOf(ids.queue(type, 'high')),
            InputPath: '$.detail',
            DeadLetterConfig: { Arn: arnOf(ids.undelivered) },
          },
        ],
      });
    },
  );

  it.each(TASK_TYPES)(
    'routes every other %s event to the normal queue',
    (type) => {
      // WHEN
      const [, rule] = ruleFor(type, 'normal');

      // THEN
      expect(rule.Properties).toMatchObject({
        EventPattern: {
          source: ['tasklane.producer'],
          'detail-type': ['Task'],
          detail: {
            taskType: [type],
            priority: [{ 'anything-but': ['high'] }, { exists: false }],
          },
        },
        Targets: [
          {
            Arn: arnOf(ids.queue(type, 'normal')),
            InputPath: '$.detail',
          },
        ],
      });
    },
  );

  it('keeps events of unknown task types whole in the undelivered queue', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['tasklane.producer'],
        detail: {
          taskType: [{ 'anything-but': TASK_TYPES }, { exists: false }],
        },
      },
      Targets: [{ Arn: arnOf(ids.undelivered), InputPath: Match.absent() }],
    });
  });

  it('lets each task queue take events from its own rule only', () => {
    for (const type of TASK_TYPES) {
      for (const priority of ['high', 'normal']) {
        // WHEN
        const [ruleId] = ruleFor(type, priority);

        // THEN
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: ids.queue(type, priority) }],
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: arnOf(ids.queue(type, priority)),
                Condition: { ArnEquals: { 'aws:SourceArn': arnOf(ruleId) } },
              },
            ],
          },
        });
      }
    }
  });

  it('lets EventBridge make data keys for the queues, through SQS only', () => {
    // THEN
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowEventBridgeToWriteEncryptedQueues',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: '*',
            Condition: {
              StringEquals: {
                'kms:ViaService': {
                  'Fn::Join': [
                    '',
                    ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com'],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('denies PutEvents from outside the allowlist (R17)', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: { Ref: ids.bus },
      Statement: {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Resource: arnOf(ids.bus),
        Condition: {
          NotIpAddress: { 'aws:SourceIp': ALLOWLIST.cidrs },
          StringNotEquals: { 'aws:SourceVpce': ALLOWLIST.vpcEndpointIds },
        },
      },
    });
  });
});

describe('PipelineIngress: HTTPS endpoint (R3, R16, R17)', () => {
  it('is a regional API that refuses TLS below 1.2', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'tasklane-ingress',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
      EndpointAccessMode: 'STRICT',
    });
  });

  it('admits only the allowlisted CIDRs and VPC endpoints', () => {
    // THEN
    const invoke = {
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
    };
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: [
          { Effect: 'Allow', ...invoke },
          {
            Effect: 'Deny',
            ...invoke,
            Condition: {
              NotIpAddress: { 'aws:SourceIp': ALLOWLIST.cidrs },
              StringNotEquals: { 'aws:SourceVpce': ALLOWLIST.vpcEndpointIds },
            },
          },
        ],
      },
    });
  });

  it('sends POST /tasks to the ingress function by proxy integration', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::Resource', {
      PathPart: 'tasks',
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
      Integration: {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': ['', Match.arrayWith([arnOf(ids.fn)])],
        },
      },
    });
    template.resourceCountIs('AWS::ApiGateway::Method', 1);
  });

  it('validates bodies and parameters before the function runs', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ type: 'object' }),
    });
  });

  it('throttles, logs access with the TLS version, and never logs bodies', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"tlsVersion":"\\$context.tlsVersion"'),
      },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 1_000,
          ThrottlingBurstLimit: 2_000,
        }),
      ],
    });
  });

  it('traces requests with X-Ray', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
    });
  });

  it('encrypts the access and function logs with the pipeline key', () => {
    // THEN
    template.resourcePropertiesCountIs(
      'AWS::Logs::LogGroup',
      { KmsKeyId: arnOf(ids.key), RetentionInDays: 365 },
      2,
    );
  });

  it('associates the stage with a web ACL only when one is given', () => {
    // WHEN
    const openTemplate = Template.fromStack(open);

    // THEN
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    openTemplate.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: WEB_ACL_ARN,
      ResourceArn: Match.anyValue(),
    });
  });

  it('answers a throttled request with 429 and Retry-After', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: {
        'gatewayresponse.header.Retry-After': "'1'",
      },
    });
  });
});

describe('PipelineIngress: ingress function', () => {
  it('runs Node.js 24 on arm64 with the prefix and capacity', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          TASKLANE_PREFIX: 'tasklane',
          TASKLANE_QUEUE_CAPACITY: '10000',
        }),
      },
    });
  });

  it('may send to the task queues and use the key for that, nothing more', () => {
    // WHEN
    const queueArns = TASK_TYPES.flatMap((type) =>
      ['high', 'normal'].map((p) => arnOf(ids.queue(type, p))),
    );

    // THEN
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: [
              'sqs:SendMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
            ],
            Resource: queueArns,
          },
          {
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: arnOf(ids.key),
          },
        ]),
      },
    });
  });

  it('may read the send-rate limit parameter, and no other', () => {
    // THEN
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'ssm:GetParameter',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ssm:eu-west-1:111111111111:parameter/tasklane/send-rate-limit',
                ],
              ],
            },
          },
        ]),
      },
    });
    const ssmStatements = Object.values(
      template.findResources('AWS::IAM::Policy'),
    ).flatMap((policy) =>
      policy.Properties.PolicyDocument.Statement.filter(
        (statement: { Action: string | string[] }) =>
          [statement.Action].flat().some((a) => a.startsWith('ssm:')),
      ),
    );
    expect(ssmStatements).toHaveLength(1);
  });

  it('lets only the stage’s POST /tasks invoke it', () => {
    // THEN
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { FunctionName: arnOf(ids.fn) },
      1,
    );
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: arnOf(ids.fn),
      Principal: 'apigateway.amazonaws.com',
      SourceArn: {
        'Fn::Join': ['', Match.arrayWith(['/POST/tasks'])],
      },
    });
  });
});

describe('PipelineIngress: undelivered-events alarm', () => {
  it('fires on one visible message in the undelivered queue, within a minute', () => {
    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tasklane-ingress-undelivered-events',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [ids.undelivered, 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'ignore',
    });
  });

  it('notifies the alarm topic when it fires and when it clears', () => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tasklane-ingress-undelivered-events',
      AlarmActions: [{ Ref: ids.topic }],
      OKActions: [{ Ref: ids.topic }],
    });
  });

  it('names the queue and points to the runbook section', () => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tasklane-ingress-undelivered-events',
      AlarmDescription: Match.stringLikeRegexp(
        '^R3 ingress: the queue tasklane-tasks-undelivered holds .*' +
          'see docs/runbook\\.md#undelivered-events\\.$',
      ),
    });
  });
});

describe('PipelineIngress: allowlist edge cases', () => {
  it('admits anyone without an allowlist, and warns', () => {
    // WHEN
    const openTemplate = Template.fromStack(open);

    // THEN
    openTemplate.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: Match.absent(),
    });
    openTemplate.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    expect(warningsOf(open)).toContainEqual({
      path: '/Open/Ingress/Https',
      text: expect.stringMatching(
        `allowlist is empty.*${OPEN_ENDPOINT_WARNING}`,
      ),
    });
  });

  it('warns that VPC endpoints alone admit no one to a regional API', () => {
    // THEN
    expect(warningsOf(vpceOnly)).toContainEqual({
      path: '/VpceOnly/Ingress/Https',
      text: expect.stringContaining(UNREACHABLE_ENDPOINT_WARNING),
    });
  });
});

describe('PipelineIngress: invalid props', () => {
  const attempt = (options: Partial<PipelineIngressOptions>) => () => {
    // GIVEN a fresh stack for each attempt; no synthesis happens
    const { stack, key, alarmTopic, lanes } = makeStack(new App(), 'Invalid');
    new PipelineIngress(stack, 'Ingress', {
      prefix: 'tasklane',
      lanes,
      key,
      allowlist: ALLOWLIST,
      queueCapacity: 10_000,
      alarmTopic,
      ...options,
    });
  };

  it.each([0, 10_001, 2.5])('refuses a queueCapacity of %s', (capacity) => {
    // WHEN / THEN
    expect(attempt({ queueCapacity: capacity })).toThrow(
      `ingress queueCapacity must be a whole number of messages from 1 to ` +
        `10000 (got ${capacity})`,
    );
  });

  it('refuses a malformed CIDR, naming it', () => {
    // WHEN / THEN
    const allowlist = { cidrs: ['10.0.0.0/8', '10.0.0.1'], vpcEndpointIds: [] };
    expect(attempt({ allowlist })).toThrow(
      /allowlist\.cidrs\[1\] must be an IPv4 or IPv6 CIDR range .*\(got "10\.0\.0\.1"\)/,
    );
  });

  it('refuses a malformed VPC endpoint id, naming it', () => {
    // WHEN / THEN
    const allowlist = { cidrs: [], vpcEndpointIds: ['vpc-123'] };
    expect(attempt({ allowlist })).toThrow(
      /allowlist\.vpcEndpointIds\[0\] must be a VPC endpoint id .*\(got "vpc-123"\)/,
    );
  });

  it('refuses a TLS policy that admits TLS 1.0', () => {
    // WHEN / THEN
    const securityPolicy = apigateway.SecurityPolicy.TLS_1_0;
    expect(attempt({ securityPolicy })).toThrow(
      /securityPolicy must keep TLS 1\.2 or newer .*\(got TLS_1_0\)/,
    );
  });

  it('refuses a throttle rate below one request per second', () => {
    // WHEN / THEN
    const throttle = { rateLimit: 0, burstLimit: 10 };
    expect(attempt({ throttle })).toThrow(
      'ingress throttle.rateLimit must be 1 or more requests per second (got 0)',
    );
  });

  it('refuses lanes without a task type', () => {
    // WHEN / THEN
    expect(attempt({ lanes: [] })).toThrow(
      'ingress lanes must name at least one task type (got 0)',
    );
  });
});
