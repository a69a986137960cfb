import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { localRateLimit } from '../ops/rate-limit.ts';
import type { TaskRecord } from '../outbox.ts';
import { createProducer, type TaskInput } from '../producer.ts';
import { taskQueueName } from '../queue-names.ts';
import { DEFAULT_CONTROL_PORT } from './control-server.ts';
import type { LocalPipeline } from './runtime.ts';
import { waitForFinalStatus } from './wait.ts';

/** One task of the demo and what it is meant to show. */
interface DemoTask {
  readonly shows: string;
  readonly taskId: string;
}

/**
 * Sends a short workload through the local pipeline and prints how each
 * task ended: successes of both built-in task types, a retry that later
 * succeeds, a task whose order does not exist and an invalid envelope, both
 * dead-lettered. With a `callbackUrl`, every task names it, so each status
 * also reaches that callback target. Its producer keeps to the send-rate
 * limit the control server at `controlUrl` holds (`tasklane throttle`).
 * Resolves to the final records.
 */
export async function runDemo(
  pipeline: LocalPipeline,
  print: (line: string) => void,
  callbackUrl?: string,
  controlUrl = `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`,
): Promise<Map<string, TaskRecord>> {
  const dataBucket = await seedBusinessData(pipeline);
  const producer = createProducer({
    sqs: pipeline.clients.sqs,
    registry: pipeline.registry,
    prefix: pipeline.prefix,
    allowHttpCallbacks: true,
    rateLimit: localRateLimit({
      controlUrl,
      onError: once(() =>
        print(
          `demo: send-rate limit not read from ${controlUrl}; the last one ` +
            'read stays, none at first',
        ),
      ),
    }),
  });
  const send = async (shows: string, task: TaskInput): Promise<DemoTask> => ({
    shows,
    taskId: (await producer.send({ ...task, callbackUrl })).id,
  });

  const tasks = [
    await send('a success', {
      taskType: 'order.notification',
      businessId: 'order-1001',
      priority: 'high',
      payload: { event: 'paid', message: 'Payment received, thank you' },
    }),
    await send('a success', {
      taskType: 'data.backup',
      businessId: 'daily-report',
      payload: { bucket: dataBucket, key: 'reports/2026-12-01.csv' },
    }),
    await send('a retry that later succeeds', {
      taskType: 'demo.flaky',
      businessId: 'demo-1',
      payload: { failTimes: 2 },
    }),
    await send('a business id that does not exist', {
      taskType: 'order.notification',
      businessId: 'order-9999',
      payload: { event: 'shipped', message: 'On its way' },
    }),
    await sendInvalid(pipeline, callbackUrl),
  ];
  print(`demo: sent ${tasks.length} tasks, waiting for their final status`);

  const records = await waitForFinalStatus(
    pipeline.outbox,
    tasks.map((task) => task.taskId),
  );
  for (const task of tasks) print(describe(task, records.get(task.taskId)));
  return records;
}

/** Calls `f` the first time only. */
function once(f: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    f();
  };
}

/** The order and the object the demo's valid tasks refer to. */
async function seedBusinessData(pipeline: LocalPipeline): Promise<string> {
  const { names } = pipeline.resources;
  await pipeline.clients.dynamodb.send(
    new PutCommand({
      TableName: names.ordersTable,
      Item: { orderId: 'order-1001', customer: 'demo' },
    }),
  );
  const bucket = `${pipeline.prefix}-data`;
  await pipeline.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await pipeline.clients.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'reports/2026-12-01.csv',
      Body: 'day,orders\n2026-12-01,42\n',
    }),
  );
  return bucket;
}

/** Sends, as a careless producer using the SDK might, an envelope with a bad priority. */
async function sendInvalid(
  pipeline: LocalPipeline,
  callbackUrl: string | undefined,
): Promise<DemoTask> {
  const taskId = crypto.randomUUID();
  const queue = taskQueueName(pipeline.prefix, 'order.notification', 'normal');
  const url = pipeline.resources.queues.find((q) => q.name === queue)?.url;
  await pipeline.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: JSON.stringify({
        id: taskId,
        taskType: 'order.notification',
        businessId: 'order-1001',
        priority: 'urgent',
        createdAt: new Date().toISOString(),
        callbackUrl,
        payload: { event: 'paid', message: 'Paid' },
      }),
    }),
  );
  return { shows: 'an invalid envelope', taskId };
}

function describe(task: DemoTask, record: TaskRecord | undefined): string {
  const head = `demo: ${task.shows.padEnd(34)}`;
  if (!record) return `${head} no final status yet (task ${task.taskId})`;
  const what = `${record.taskType} ${record.businessId}`;
  const attempts = `${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`;
  if (record.status === 'completed') {
    return `${head} completed     ${what} after ${attempts}`;
  }
  return `${head} dead-lettered ${what}: ${record.reason} ${record.error}`;
}
