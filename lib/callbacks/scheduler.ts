/**
 * Timing of the next delivery to a callback target. On AWS a one-time
 * EventBridge Scheduler schedule invokes the dispatcher function with
 * `{ "target": <url> }`, or, for a delivery due now, an asynchronous
 * invocation does it at once; locally, a timer in the process (see
 * local-scheduler.ts) does the same through the same interface.
 */
import { createHash } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  type RetryPolicy,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';

/** Runs the dispatcher for a target at (or soon after) a time. */
export interface DeliveryScheduler {
  /**
   * Arranges one dispatch of `target` at `at`. Arranging the same target
   * and time twice gives one dispatch.
   */
  schedule(target: string, at: Date): Promise<void>;
}

/** The event the scheduler sends the dispatcher function. */
export interface DispatchEvent {
  readonly target: string;
}

export interface AwsSchedulerOptions {
  readonly client: SchedulerClient;
  /** The pipeline's schedule group. */
  readonly groupName: string;
  /** ARN of the callback dispatcher function. */
  readonly dispatcherArn: string;
  /** ARN of the role the scheduler assumes to invoke the dispatcher. */
  readonly roleArn: string;
  /**
   * How the scheduler retries a failed invocation.
   * @default 10 retries within one hour
   */
  readonly retryPolicy?: RetryPolicy;
  /**
   * The customer managed key that encrypts each schedule's input (the
   * target URL). The scheduler role needs kms:Decrypt on it.
   * @default the key AWS owns
   */
  readonly kmsKeyArn?: string;
  /**
   * Invokes the dispatcher asynchronously for a delivery that is due
   * already, such as the first status for an idle target: a schedule
   * would run it two seconds to a minute later. Without it every
   * delivery is a schedule.
   * @default - every delivery is a schedule
   */
  readonly lambda?: LambdaClient;
  readonly clock?: () => number;
}

/**
 * A one-time schedule must lie in the future when it is created; this
 * much lead also keeps a new schedule off the second of the one that is
 * running now, whose name may not be deleted yet.
 */
export const MIN_LEAD_MS = 2000;

const DEFAULT_RETRY: RetryPolicy = {
  MaximumEventAgeInSeconds: 3600,
  MaximumRetryAttempts: 10,
};

/**
 * Schedules deliveries with EventBridge Scheduler. Each is a one-time
 * `at()` schedule in UTC, flexible window off, deleted after it ran, named
 * after the target and the second it runs at: the same delivery asked for
 * twice meets ConflictException, which counts as already scheduled.
 *
 * EventBridge Scheduler invokes within the minute after the `at()` time,
 * never before; so a delivery runs up to a minute later than asked. A
 * delivery due now therefore goes to the dispatcher straight away as an
 * asynchronous (`Event`) invocation when `lambda` is given. Lambda may
 * deliver such an event twice; like a duplicated schedule firing, the
 * second finds the target leased or its slot not come and sends nothing.
 */
export function createAwsScheduler(
  options: AwsSchedulerOptions,
): DeliveryScheduler {
  const clock = options.clock ?? Date.now;
  return {
    async schedule(target, at) {
      const now = clock();
      if (options.lambda && at.getTime() <= now) {
        await options.lambda.send(
          new InvokeCommand(invokeRequest(options.dispatcherArn, target)),
        );
        return;
      }
      const runAt = scheduleTime(at, now);
      try {
        await options.client.send(
          new CreateScheduleCommand(scheduleRequest(options, target, runAt)),
        );
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
      }
    },
  };
}

/** The CreateSchedule request for one delivery at `runAt`. */
export function scheduleRequest(
  options: AwsSchedulerOptions,
  target: string,
  runAt: Date,
): CreateScheduleCommandInput {
  const input: DispatchEvent = { target };
  return {
    Name: scheduleName(target, runAt),
    ...(options.kmsKeyArn && { KmsKeyArn: options.kmsKeyArn }),
    GroupName: options.groupName,
    ScheduleExpression: atExpression(runAt),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Description: 'tasklane callback delivery',
    Target: {
      Arn: options.dispatcherArn,
      RoleArn: options.roleArn,
      Input: JSON.stringify(input),
      RetryPolicy: options.retryPolicy ?? DEFAULT_RETRY,
    },
  };
}

/** The asynchronous invocation of the dispatcher for a due delivery. */
export function invokeRequest(dispatcherArn: string, target: string) {
  const input: DispatchEvent = { target };
  return {
    FunctionName: dispatcherArn,
    InvocationType: 'Event' as const,
    Payload: new TextEncoder().encode(JSON.stringify(input)),
  };
}

/**
 * When a schedule for `at` runs: at least MIN_LEAD_MS from now, rounded up
 * to a whole second since `at()` has no finer unit (rounding down would
 * run it before the slot).
 */
export function scheduleTime(at: Date, now: number): Date {
  const earliest = Math.max(at.getTime(), now + MIN_LEAD_MS);
  return new Date(Math.ceil(earliest / 1000) * 1000);
}

/** `at(yyyy-mm-ddThh:mm:ss)` of a time, in UTC. */
export function atExpression(at: Date): string {
  return `at(${at.toISOString().slice(0, 19)})`;
}

/**
 * A schedule name (at most 64 of `[0-9A-Za-z-_.]`) unique to a target and
 * a second: `callback-` and 48 hex digits of SHA-256 over both.
 */
export function scheduleName(target: string, at: Date): string {
  const second = Math.floor(at.getTime() / 1000);
  const hash = createHash('sha256').update(`${target}\n${second}`);
  return `callback-${hash.digest('hex').slice(0, 48)}`;
}
