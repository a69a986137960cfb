import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWLIST_STATEMENT_SID,
  senderAllowlistStatement,
} from '../../lib/infra/security.ts';
import {
  ALLOWLIST,
  buildPipeline,
  queueStatements,
  resourcesOf,
} from '../helpers/pipeline-stack.ts';

let template: Template;
let queueIds: string[];
let roleIds: string[];

beforeAll(() => {
  // GIVEN a pipeline with an allowlist, and a role added after its lanes
  // as the ingress construct adds its function's role
  const stack = buildPipeline({ allowlist: ALLOWLIST });
  new iam.Role(stack.pipeline, 'LateRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  // WHEN
  template = Template.fromStack(stack);
  queueIds = Object.keys(resourcesOf(template, 'AWS::SQS::Queue'));
  roleIds = Object.keys(resourcesOf(template, 'AWS::IAM::Role'));
});

const allowlistStatement = (queueId: string) =>
  queueStatements(template, queueId).find(
    (s) => s.Sid === ALLOWLIST_STATEMENT_SID,
  );

describe('TaskPipeline security: TLS (R16)', () => {
  it('denies every action on every queue when the request is not over TLS', () => {
    // 3 per task type, the ingress's queue of undelivered events and the
    // callbacks' dead-letter queue
    expect(queueIds).toHaveLength(8);
    for (const id of queueIds) {
      // THEN
      expect(queueStatements(template, id)).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});

describe('TaskPipeline security: sender allowlist (R17)', () => {
  it('denies SendMessage on every queue from outside the CIDRs and endpoints', () => {
    for (const id of queueIds) {
      // THEN
      expect(allowlistStatement(id)).toMatchObject({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Condition: {
          NotIpAddress: { 'aws:SourceIp': ALLOWLIST.cidrs },
          StringNotEquals: {
            'aws:SourceVpce': ALLOWLIST.vpcEndpointIds,
            'aws:PrincipalServiceName': ['events.amazonaws.com'],
          },
        },
      });
    }
  });

  it('exempts every role of the pipeline, even one added after the lanes', () => {
    expect(roleIds).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/OrderNotificationConsumerRole/),
        expect.stringMatching(/DataBackupConsumerRole/),
        expect.stringMatching(/LateRole/),
      ]),
    );
    for (const id of queueIds) {
      // THEN
      const exempt = allowlistStatement(id)?.Condition?.ArnNotLike?.[
        'aws:PrincipalArn'
      ] as unknown[];
      for (const role of roleIds) {
        expect(exempt).toContainEqual({ 'Fn::GetAtt': [role, 'Arn'] });
      }
    }
  });

  it('leaves out the endpoint condition when only CIDRs are allowlisted', () => {
    // WHEN
    const statement = senderAllowlistStatement(
      'arn:aws:sqs:eu-west-1:123456789012:q',
      { cidrs: ['198.51.100.7/32'], vpcEndpointIds: [] },
      ['arn:aws:iam::123456789012:role/consumer'],
    )?.toStatementJson();

    // THEN
    expect(statement.Condition).toEqual({
      NotIpAddress: { 'aws:SourceIp': ['198.51.100.7/32'] },
      StringNotEquals: { 'aws:PrincipalServiceName': ['events.amazonaws.com'] },
      ArnNotLike: {
        'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/consumer'],
      },
    });
  });

  it('adds no deny when the allowlist is empty', () => {
    // WHEN
    const statement = senderAllowlistStatement(
      'arn:aws:sqs:eu-west-1:123456789012:q',
      { cidrs: [], vpcEndpointIds: [] },
      [],
    );

    // THEN
    expect(statement).toBeUndefined();
  });
});

describe('TaskPipeline security: consumer roles', () => {
  const policies = () =>
    Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).map(
      ([id, policy]) => ({
        id,
        statements: (
          policy.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown }[];
          }
        ).Statement,
      }),
    );

  it('grants no service-wide action and no wildcard outside KMS and S3 objects', () => {
    for (const { statements } of policies()) {
      for (const statement of statements) {
        // THEN
        const actions = [statement.Action].flat();
        expect(actions.filter((a) => a.endsWith(':*'))).toEqual([]);
        const wildcards = actions.filter((a) => a.includes('*'));
        expect(wildcards.every((a) => a.startsWith('kms:'))).toBe(true);
      }
    }
  });

  it('lets each consumer send to its dead-letter queue and touch table items only', () => {
    for (const { id, statements } of policies()) {
      if (!/ConsumerRole/.test(id)) continue;
      // THEN
      const text = JSON.stringify(statements);
      expect(text).toContain('sqs:SendMessage');
      expect(text).toContain('sqs:ChangeMessageVisibility');
      expect(text).not.toContain('dynamodb:Scan');
      expect(text).not.toContain('/index/');
    }
  });
});
