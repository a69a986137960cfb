import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, it } from 'vitest';
import { ACCOUNT, build, topicRef } from '../helpers/monitoring-stack.ts';

describe('PipelineMonitoring alarm topic', () => {
  it('encrypts the topic with the key and denies requests not over TLS', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'tl-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it("lets this account's alarms publish and use the key", () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    const cloudwatch = (actions: unknown) =>
      Match.objectLike({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: actions,
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  `:cloudwatch:eu-west-1:${ACCOUNT}:alarm:tl-*`,
                ],
              ],
            },
          },
        },
      });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([cloudwatch('sns:Publish')]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          cloudwatch(['kms:Decrypt', 'kms:GenerateDataKey*']),
        ]),
      },
    });
  });

  it('subscribes no address when no alarm e-mail is configured', () => {
    // GIVEN / WHEN
    const { template } = build();

    // THEN
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the alarm e-mail when configured', () => {
    // GIVEN / WHEN
    const { template } = build({ alarmEmail: 'oncall@example.com' });

    // THEN
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: topicRef(template),
    });
  });

  it('warns when the key is imported and its policy cannot be changed', () => {
    // GIVEN
    const arn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd`;

    // WHEN
    const { stack } = build({
      key: (s) => kms.Key.fromKeyArn(s, 'Imported', arn),
    });

    // THEN
    Annotations.fromStack(stack).hasWarning(
      '/Test/Monitoring',
      Match.stringLikeRegexp('cloudwatch.amazonaws.com kms:Decrypt'),
    );
  });
});
