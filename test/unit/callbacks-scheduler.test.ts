import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ConflictException,
  CreateScheduleCommand,
  type SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { describe, expect, it, vi } from 'vitest';
import { createLocalScheduler } from '../../lib/callbacks/local-scheduler.ts';
import {
  atExpression,
  createAwsScheduler,
  scheduleName,
  scheduleTime,
} from '../../lib/callbacks/scheduler.ts';

const NOW = Date.UTC(2026, 2, 1, 9, 30, 0, 250);
const TARGET = 'https://shop.example/callbacks';

/** EventBridge Scheduler exists only on AWS: a stand-in client. */
function schedulerClient(
  answer: (command: unknown) => Promise<unknown> = async () => ({}),
) {
  const send = vi.fn(answer);
  return { client: { send } as unknown as SchedulerClient, send };
}

/** The input of the first CreateSchedule request a client was sent. */
function scheduleInput(send: ReturnType<typeof schedulerClient>['send']) {
  const command = send.mock.calls[0]?.[0];
  expect(command).toBeInstanceOf(CreateScheduleCommand);
  return (command as CreateScheduleCommand).input;
}

const options = (client: SchedulerClient) => ({
  client,
  groupName: 'tasklane-callbacks',
  dispatcherArn:
    'arn:aws:lambda:eu-west-1:123456789012:function:tasklane-callbacks',
  roleArn: 'arn:aws:iam::123456789012:role/tasklane-scheduler',
  clock: () => NOW,
});

describe('EventBridge Scheduler delivery scheduler', () => {
  it('creates a one-time schedule that invokes the dispatcher', async () => {
    // Prepare
    const { client, send } = schedulerClient();
    const scheduler = createAwsScheduler(options(client));

    // Act
    await scheduler.schedule(TARGET, new Date(NOW + 42_100));

    // Assess
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0]?.[0];
    expect(command).toBeInstanceOf(CreateScheduleCommand);
    expect((command as CreateScheduleCommand).input).toEqual({
      Name: scheduleName(TARGET, new Date('2026-03-01T09:30:43Z')),
      GroupName: 'tasklane-callbacks',
      ScheduleExpression: 'at(2026-03-01T09:30:43)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: 'tasklane callback delivery',
      Target: {
        Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:tasklane-callbacks',
        RoleArn: 'arn:aws:iam::123456789012:role/tasklane-scheduler',
        Input: JSON.stringify({ target: TARGET }),
        RetryPolicy: {
          MaximumEventAgeInSeconds: 3600,
          MaximumRetryAttempts: 10,
        },
      },
    });
  });

  it('encrypts the schedule with the key it is given', async () => {
    // Prepare
    const { client, send } = schedulerClient();
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1111-2222';
    const scheduler = createAwsScheduler({ ...options(client), kmsKeyArn });

    // Act
    await scheduler.schedule(TARGET, new Date(NOW + 42_100));

    // Assess
    const input = scheduleInput(send);
    expect(input.KmsKeyArn).toBe(kmsKeyArn);
    expect(input.ScheduleExpression).toBe('at(2026-03-01T09:30:43)');
  });

  it('invokes the dispatcher at once for a delivery due now', async () => {
    // Prepare
    const { client, send: scheduleSend } = schedulerClient();
    const invokeSend = vi.fn(async (_command: unknown) => ({
      StatusCode: 202,
    }));
    const lambda = { send: invokeSend } as unknown as LambdaClient;
    const scheduler = createAwsScheduler({ ...options(client), lambda });

    // Act
    await scheduler.schedule(TARGET, new Date(NOW));
    await scheduler.schedule(TARGET, new Date(NOW - 3_000));

    // Assess
    expect(scheduleSend).not.toHaveBeenCalled();
    expect(invokeSend).toHaveBeenCalledTimes(2);
    const command = invokeSend.mock.calls[0]?.[0] as InvokeCommand;
    expect(command).toBeInstanceOf(InvokeCommand);
    const { Payload, ...rest } = command.input;
    expect(rest).toEqual({
      FunctionName:
        'arn:aws:lambda:eu-west-1:123456789012:function:tasklane-callbacks',
      InvocationType: 'Event',
    });
    expect(JSON.parse(new TextDecoder().decode(Payload as Uint8Array))).toEqual(
      { target: TARGET },
    );
  });

  it('schedules a delivery due even a moment later', async () => {
    // Prepare
    const { client, send: scheduleSend } = schedulerClient();
    const invokeSend = vi.fn(async () => ({ StatusCode: 202 }));
    const lambda = { send: invokeSend } as unknown as LambdaClient;
    const scheduler = createAwsScheduler({ ...options(client), lambda });

    // Act
    await scheduler.schedule(TARGET, new Date(NOW + 1));

    // Assess: an early invocation would only find the slot not come
    expect(invokeSend).not.toHaveBeenCalled();
    const input = scheduleInput(scheduleSend);
    expect(input.ScheduleExpression).toBe('at(2026-03-01T09:30:03)');
  });

  it('passes on a failed invocation', async () => {
    // Prepare
    const { client } = schedulerClient();
    const refused = new Error('AccessDeniedException');
    const lambda = {
      send: vi.fn(async () => {
        throw refused;
      }),
    } as unknown as LambdaClient;
    const scheduler = createAwsScheduler({ ...options(client), lambda });

    // Act
    const done = scheduler.schedule(TARGET, new Date(NOW));

    // Assess
    await expect(done).rejects.toBe(refused);
  });

  it('counts a schedule of the same name as already scheduled', async () => {
    // Prepare
    const { client } = schedulerClient(async () => {
      throw new ConflictException({
        message: 'exists',
        Message: 'exists',
        $metadata: {},
      });
    });
    const scheduler = createAwsScheduler(options(client));

    // Act
    const done = scheduler.schedule(TARGET, new Date(NOW + 60_000));

    // Assess
    await expect(done).resolves.toBeUndefined();
  });

  it('passes on any other error', async () => {
    // Prepare
    const { client } = schedulerClient(async () => {
      throw new ValidationException({
        message: 'bad',
        Message: 'bad',
        $metadata: {},
      });
    });
    const scheduler = createAwsScheduler(options(client));

    // Act
    const done = scheduler.schedule(TARGET, new Date(NOW + 60_000));

    // Assess
    await expect(done).rejects.toBeInstanceOf(ValidationException);
  });

  it('never schedules in the past or before the slot', () => {
    // Act
    const past = scheduleTime(new Date(NOW - 5_000), NOW);
    const slot = scheduleTime(new Date(NOW + 10_001), NOW);

    // Assess
    expect(past.toISOString()).toBe('2026-03-01T09:30:03.000Z');
    expect(slot.toISOString()).toBe('2026-03-01T09:30:11.000Z');
    expect(atExpression(slot)).toBe('at(2026-03-01T09:30:11)');
  });

  it('names a schedule by target and second, within the limits', () => {
    // Prepare
    const at = new Date('2026-03-01T09:31:00Z');
    const long = `https://shop.example/${'x'.repeat(2000)}`;

    // Act
    const names = [
      scheduleName(TARGET, at),
      scheduleName(TARGET, new Date(at.getTime() + 999)),
      scheduleName(TARGET, new Date(at.getTime() + 1000)),
      scheduleName(long, at),
    ];

    // Assess
    expect(names[0]).toBe(names[1]);
    expect(names[2]).not.toBe(names[0]);
    for (const name of names) {
      expect(name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    }
  });
});

describe('local delivery scheduler', () => {
  it('runs a target once for the same time asked twice', async () => {
    // Prepare
    const invoke = vi.fn(async () => {});
    const scheduler = createLocalScheduler({ invoke });
    const at = new Date(Date.now() + 20);

    // Act
    await scheduler.schedule('t', at);
    await scheduler.schedule('t', at);
    await new Promise((resolve) => setTimeout(resolve, 80));

    // Assess
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith('t');
    await scheduler.stop();
  });

  it('leaves no timer behind and waits for runs in flight when stopped', async () => {
    // Prepare
    let finished = false;
    const scheduler = createLocalScheduler({
      invoke: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = true;
      },
    });
    await scheduler.schedule('now', new Date());
    await scheduler.schedule('later', new Date(Date.now() + 60_000));
    await new Promise((resolve) => setTimeout(resolve, 10));

    // Act
    await scheduler.stop();
    await scheduler.schedule('after-stop', new Date());

    // Assess
    expect(finished).toBe(true);
    expect(scheduler.waiting).toBe(0);
  });

  it('reports a run that throws', async () => {
    // Prepare
    const onError = vi.fn();
    const scheduler = createLocalScheduler({
      invoke: async () => {
        throw new Error('boom');
      },
      onError,
    });

    // Act
    await scheduler.schedule('t', new Date());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.stop();

    // Assess
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 't');
  });
});
