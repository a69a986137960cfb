import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { defineTask } from '../../lib/task-module.ts';
import { requireEnv } from './env.ts';

/** Table of orders, keyed by `orderId`; the business id is an order id. */
export const ORDERS_TABLE_ENV = 'TASKLANE_ORDERS_TABLE';
/** Topic the notifications are published to. */
export const NOTIFICATION_TOPIC_ENV = 'TASKLANE_NOTIFICATION_TOPIC_ARN';

/**
 * Publishes a notification about an order to the notification topic. The
 * business id is the order id; the order must exist in the orders table.
 */
export const orderNotification = defineTask({
  taskType: 'order.notification',
  description: 'Publishes a notification for an order to an SNS topic',
  payloadSchema: z.strictObject({
    event: z.enum(['created', 'paid', 'shipped', 'cancelled']),
    message: z.string().min(1).max(4096),
  }),
  defaults: { timeoutMs: 5_000, maxConcurrency: 10, batchSize: 10 },

  async findMissingBusinessId(envelope, _payload, services) {
    const { Item } = await services.clients.dynamodb.send(
      new GetCommand({
        TableName: requireEnv(services, ORDERS_TABLE_ENV),
        Key: { orderId: envelope.businessId },
        ProjectionExpression: 'orderId',
      }),
    );
    return Item ? undefined : 'no such order in the orders table';
  },

  async handle(run) {
    const { envelope, payload } = run;
    const notification = {
      orderId: envelope.businessId,
      event: payload.event,
      message: payload.message,
      taskId: envelope.id,
    };
    await run.clients.sns.send(
      new PublishCommand({
        TopicArn: requireEnv(run, NOTIFICATION_TOPIC_ENV),
        Subject: `Order ${envelope.businessId} ${payload.event}`,
        Message: JSON.stringify(notification),
        MessageAttributes: {
          event: { DataType: 'String', StringValue: payload.event },
        },
      }),
      { abortSignal: run.signal },
    );
  },
});
