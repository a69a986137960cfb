import {
  type Message,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { interceptLocalhostDns } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AcceptTaskDeps,
  acceptTask,
  type IngressLogger,
} from '../../lambdas/ingress/accept-task.ts';
import { INGRESS_ENV } from '../../lambdas/ingress/env.ts';
import { createRateGate } from '../../lib/ops/rate-limit.ts';
import { createProducer, type ProducerOptions } from '../../lib/producer.ts';
import { type FakeSsm, startFakeSsm } from '../helpers/fake-ssm.ts';
import {
  failEntries,
  orderTask,
  type ProducerFixture,
  queueDepth,
  receiveAll,
  startProducerFixture,
  testRegistry,
} from '../helpers/fixtures-producer.ts';

// The fixture makes every queue of the pipeline on fauxqs, with the names
// the stack gives them, and runs no consumer: what the ingress sends stays
// in its queue for the test to read.
const ORDER_HIGH = 'tasklane-order-notification-high';
const ORDER_NORMAL = 'tasklane-order-notification-normal';

let fixture: ProducerFixture;

beforeAll(async () => {
  fixture = await startProducerFixture();
});
afterEach(async () => {
  await fixture.purge();
});
afterAll(async () => {
  await fixture.stop();
});

interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): IngressLogger {
  return {
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
  };
}

function deps(
  options: Partial<ProducerOptions> = {},
  lines: LogLine[] = [],
): AcceptTaskDeps {
  const producer = createProducer({
    sqs: fixture.clients.sqs,
    registry: testRegistry,
    ...options,
  });
  return { producer, logger: recordingLogger(lines) };
}

function receive(queueName: string): Promise<Message[]> {
  return receiveAll(fixture.clients.sqs, fixture.queueUrl(queueName));
}

function depth(queueName: string): Promise<number> {
  return queueDepth(fixture.clients.sqs, fixture.queueUrl(queueName));
}

describe('acceptTask: accepted (202)', () => {
  it('puts a high-priority task on the high queue and answers its id', async () => {
    // Prepare
    const body = JSON.stringify(orderTask({ priority: 'high' }));

    // Act
    const response = await acceptTask(body, deps());

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.headers['content-type']).toBe('application/json');
    const answer = JSON.parse(response.body);
    expect(answer).toEqual({ id: expect.any(String), queueName: ORDER_HIGH });
    const [message, ...others] = await receive(ORDER_HIGH);
    expect(others).toEqual([]);
    expect(JSON.parse(message?.Body ?? '')).toMatchObject({
      id: answer.id,
      taskType: 'order.notification',
      businessId: 'order-1042',
      priority: 'high',
    });
    expect(await depth(ORDER_NORMAL)).toBe(0);
  });

  it('puts a task without priority on the normal queue', async () => {
    // Act
    const response = await acceptTask(JSON.stringify(orderTask()), deps());

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body).queueName).toBe(ORDER_NORMAL);
    expect(await depth(ORDER_NORMAL)).toBe(1);
  });

  it('logs the task id, type and business id, not the payload', async () => {
    // Prepare
    const lines: LogLine[] = [];

    // Act
    await acceptTask(JSON.stringify(orderTask()), deps({}, lines));

    // Assess
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'task accepted',
        fields: {
          taskId: expect.any(String),
          taskType: 'order.notification',
          businessId: 'order-1042',
          queueName: ORDER_NORMAL,
        },
      },
    ]);
  });
});

describe('acceptTask: refused (400)', () => {
  it('names the field and the value of each invalid one', async () => {
    // Prepare
    const lines: LogLine[] = [];
    const body = JSON.stringify(
      orderTask({ businessId: '', payload: { event: 'lost', message: 'x' } }),
    );

    // Act
    const response = await acceptTask(body, deps({}, lines));

    // Assess
    expect(response.statusCode).toBe(400);
    const answer = JSON.parse(response.body);
    expect(answer.code).toBe('INVALID_TASK');
    expect(answer.errors).toEqual(
      expect.arrayContaining([
        { field: 'businessId', message: expect.any(String), value: '' },
        { field: 'payload.event', message: expect.any(String), value: 'lost' },
      ]),
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          invalid: expect.arrayContaining(['businessId', 'payload.event']),
        }),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('lost');
    expect(await depth(ORDER_NORMAL)).toBe(0);
  });

  it('names the problem when the body is not JSON', async () => {
    // Act
    const response = await acceptTask('{"taskType": "order.', deps());

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      code: 'INVALID_JSON',
      message: expect.stringMatching(/^body is not valid JSON: /),
      errors: [{ field: '', message: expect.stringMatching(/JSON/) }],
    });
  });

  it.each([
    [null, /body is empty/],
    ['', /body is empty/],
  ])('says so when the body is %j', async (body, message) => {
    // Act
    const response = await acceptTask(body, deps());

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(message);
  });

  it('refuses a body that is JSON but not an object', async () => {
    // Act
    const response = await acceptTask('"order-1042"', deps());

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).errors).toEqual([
      { field: '', message: 'must be a JSON object', value: 'order-1042' },
    ]);
  });

  it('names a task type the registry does not know', async () => {
    // Prepare
    const body = JSON.stringify(orderTask({ taskType: 'invoice.print' }));

    // Act
    const response = await acceptTask(body, deps());

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      code: 'UNKNOWN_TASK_TYPE',
      errors: [
        {
          field: 'taskType',
          message: 'is not a known task type',
          value: 'invoice.print',
        },
      ],
    });
  });
});

describe('acceptTask: queue full (429) and SQS failing (503)', () => {
  it('refuses with Retry-After when the queue holds its capacity', async () => {
    // Prepare: the normal queue already holds 3 messages, its capacity
    const url = fixture.queueUrl(ORDER_NORMAL);
    await fixture.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ['a', 'b', 'c'].map((id) => ({ Id: id, MessageBody: id })),
      }),
    );

    // Act
    const response = await acceptTask(
      JSON.stringify(orderTask()),
      deps({ capacity: 3 }),
    );

    // Assess
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('30');
    expect(JSON.parse(response.body)).toEqual({
      code: 'QUEUE_FULL',
      message: `queue ${ORDER_NORMAL} is full: 3 messages of at most 3`,
      errors: [],
    });
    expect(await depth(ORDER_NORMAL)).toBe(3);
  });

  it('still takes a task while the queue has room for it', async () => {
    // Prepare
    await fixture.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: fixture.queueUrl(ORDER_NORMAL),
        MessageBody: 'a',
      }),
    );

    // Act
    const response = await acceptTask(
      JSON.stringify(orderTask()),
      deps({ capacity: 2 }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(await depth(ORDER_NORMAL)).toBe(2);
  });

  it('answers 503 with Retry-After when SQS keeps failing the send', async () => {
    // Prepare: SQS fails every entry on its side, retries included
    const sqs = fixture.newSqsClient();
    failEntries(sqs, () => true);

    // Act
    const response = await acceptTask(
      JSON.stringify(orderTask()),
      deps({ sqs }),
    );

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(JSON.parse(response.body).code).toBe('QUEUE_UNAVAILABLE');
    expect(await depth(ORDER_NORMAL)).toBe(0);
  });
});

describe('acceptTask: send-rate limit (429)', () => {
  /** A gate at `rate` tasks/s on a clock the test moves. */
  function gateAt(rate: number) {
    const clock = { t: 0, now: () => clock.t };
    const rateGate = createRateGate({ current: async () => rate }, clock);
    return { clock, rateGate };
  }

  it('refuses a task over the limit with Retry-After, sending nothing', async () => {
    // Prepare: 0.4 tasks/s, one task every 2.5 s
    const lines: LogLine[] = [];
    const { clock, rateGate } = gateAt(0.4);
    const accept = { ...deps({}, lines), rateGate };
    const first = await acceptTask(JSON.stringify(orderTask()), accept);
    clock.t += 1_000;

    // Act
    const second = await acceptTask(JSON.stringify(orderTask()), accept);

    // Assess: 1.5 s to its turn, rounded up to whole seconds
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('2');
    expect(JSON.parse(second.body)).toEqual({
      code: 'SEND_RATE_LIMITED',
      message: expect.stringMatching(/lowered rate/),
      errors: [],
    });
    expect(lines.at(-1)).toEqual({
      level: 'warn',
      message: 'task refused: send-rate limit reached',
      fields: {
        taskType: 'order.notification',
        businessId: 'order-1042',
        retryAfterSeconds: 2,
      },
    });
    expect(await depth(ORDER_NORMAL)).toBe(1);
  });

  it('takes the next task once its turn has come', async () => {
    // Prepare
    const { clock, rateGate } = gateAt(0.4);
    const accept = { ...deps(), rateGate };
    await acceptTask(JSON.stringify(orderTask()), accept);
    clock.t += 1_000;
    await acceptTask(JSON.stringify(orderTask()), accept);

    // Act: refusals took no slot, so the turn is 2.5 s after the first
    clock.t += 1_500;
    const third = await acceptTask(JSON.stringify(orderTask()), accept);

    // Assess
    expect(third.statusCode).toBe(202);
    expect(await depth(ORDER_NORMAL)).toBe(2);
  });

  it('answers 400 for an invalid body before the limit is asked', async () => {
    // Prepare
    const admit = async () => {
      throw new Error('the gate must not be asked');
    };

    // Act
    const response = await acceptTask('{', {
      ...deps(),
      rateGate: { admit },
    });

    // Assess
    expect(response.statusCode).toBe(400);
  });
});

describe('ingress Lambda handler', () => {
  let saved: NodeJS.ProcessEnv;
  let restoreDns: () => void;
  let ssm: FakeSsm;
  beforeAll(async () => {
    saved = { ...process.env };
    // The handler's client sends to the queue URL's own host, as on AWS;
    // fauxqs names queues under sqs.<region>.localhost.
    restoreDns = interceptLocalhostDns();
    ssm = await startFakeSsm();
  });
  afterAll(async () => {
    process.env = saved;
    restoreDns();
    await ssm.stop();
  });

  it('answers 202 from the environment, then 429 over the SSM limit', async () => {
    // Prepare: the handler builds its own SQS and SSM clients; point them
    // at fauxqs and the fake SSM, which holds 0.5 tasks/s
    ssm.parameters.set('/tasklane/send-rate-limit', '0.5');
    Object.assign(process.env, {
      [INGRESS_ENV.prefix]: 'tasklane',
      [INGRESS_ENV.capacity]: '10000',
      AWS_ENDPOINT_URL_SQS: fixture.emulators.messagingEndpoint,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { handler } = await import('../../lambdas/ingress/handler.ts');
    const body = Buffer.from(JSON.stringify(orderTask({ priority: 'high' })));
    const event = {
      body: body.toString('base64'),
      isBase64Encoded: true,
    } as APIGatewayProxyEvent;
    const context = {
      functionName: 'tasklane-ingress',
      awsRequestId: 'request-1',
    } as Context;

    // Act
    const response = await handler(event, context);
    const next = await handler(event, context);

    // Assess: one slot per 2 s; the limit was read once, then reused
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body).queueName).toBe(ORDER_HIGH);
    expect(next.statusCode).toBe(429);
    expect(next.headers?.['retry-after']).toBe('2');
    expect(await depth(ORDER_HIGH)).toBe(1);
    expect(ssm.requests).toEqual([
      {
        operation: 'GetParameter',
        input: { Name: '/tasklane/send-rate-limit' },
      },
    ]);
  });
});
