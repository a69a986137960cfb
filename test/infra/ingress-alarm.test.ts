import { describe, expect, it } from 'vitest';
import {
  queueId,
  resourcesOf,
  synthPipeline,
} from '../helpers/pipeline-stack.ts';

describe('TaskPipeline: undelivered-events alarm', () => {
  it('watches <prefix>-tasks-undelivered and notifies the pipeline topic', () => {
    // GIVEN / WHEN
    const { template } = synthPipeline({ prefix: 'shop' });

    // THEN
    const [topicId] =
      Object.entries(resourcesOf(template, 'AWS::SNS::Topic')).find(
        ([, topic]) => topic.Properties.TopicName === 'shop-alarms',
      ) ?? [];
    const alarm = Object.values(
      resourcesOf(template, 'AWS::CloudWatch::Alarm'),
    ).find(
      (a) => a.Properties.AlarmName === 'shop-ingress-undelivered-events',
    )?.Properties;
    expect(topicId).toBeDefined();
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [
              queueId(template, 'shop-tasks-undelivered'),
              'QueueName',
            ],
          },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
  });
});
