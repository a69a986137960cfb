import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TasklaneError } from './errors.ts';
import { OUTBOX_KEY, OUTBOX_PENDING_TARGET, OUTBOX_TTL } from './tables.ts';

/** What is known of a task, even one whose envelope is broken. */
export interface TaskIdentity {
  readonly taskId: string;
  readonly taskType?: string;
  readonly businessId?: string;
  readonly callbackUrl?: string;
}

export type FinalStatus = 'completed' | 'failed';

/** One failed execution, as kept in the task's error history. */
export interface AttemptError {
  readonly attempt: number;
  readonly at: string;
  readonly code: string;
  readonly message: string;
}

/** How a task ended. */
export interface TaskOutcome {
  readonly status: FinalStatus;
  readonly attempts: number;
  /** Why a failed task failed: INVALID or RETRIES_EXHAUSTED. */
  readonly reason?: string;
  readonly error?: string;
}

/** The outbox item of one task. */
export interface TaskRecord extends TaskIdentity, Partial<TaskOutcome> {
  readonly errors?: readonly AttemptError[];
  readonly finishedAt?: string;
}

/** The task has used up its executions. */
export class AttemptsExhaustedError extends TasklaneError {
  readonly attempts: number;

  constructor(taskId: string, attempts: number) {
    super('RETRIES_EXHAUSTED', `task ${taskId} already ran ${attempts} times`);
    this.attempts = attempts;
  }
}

export interface StatusOutboxOptions {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days an item is kept before DynamoDB's TTL removes it. @default 14 */
  readonly retentionDays?: number;
}

/**
 * The status outbox: per task, its executions and errors while it runs and
 * exactly one final status when it ends, durable in DynamoDB for the
 * callbacks to deliver.
 */
export function createStatusOutbox(options: StatusOutboxOptions) {
  const { dynamodb, tableName } = options;
  const retentionSeconds = (options.retentionDays ?? 14) * 24 * 3600;
  const expiresAt = () => Math.floor(Date.now() / 1000) + retentionSeconds;

  return {
    /**
     * Counts the start of an execution and returns its number, from 1.
     * Throws AttemptsExhaustedError when `maxAttempts` have already run.
     */
    async startAttempt(task: TaskIdentity, maxAttempts: number) {
      try {
        const { Attributes } = await dynamodb.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [OUTBOX_KEY]: task.taskId },
            UpdateExpression:
              'ADD attempts :one SET taskType = :type, ' +
              'businessId = :business, #ttl = :ttl',
            ConditionExpression:
              'attribute_not_exists(attempts) OR attempts < :max',
            ExpressionAttributeNames: { '#ttl': OUTBOX_TTL },
            ExpressionAttributeValues: {
              ':one': 1,
              ':max': maxAttempts,
              ':type': task.taskType,
              ':business': task.businessId,
              ':ttl': expiresAt(),
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(Attributes?.attempts);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        throw new AttemptsExhaustedError(task.taskId, maxAttempts);
      }
    },

    /** Appends a failed execution and returns the whole error history. */
    async recordError(taskId: string, error: AttemptError) {
      const { Attributes } = await dynamodb.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { [OUTBOX_KEY]: taskId },
          UpdateExpression:
            'SET errors = list_append(if_not_exists(errors, :none), :error)',
          ExpressionAttributeValues: { ':none': [], ':error': [error] },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (Attributes?.errors ?? []) as AttemptError[];
    },

    /**
     * Records the task's final status. Resolves to false, writing nothing,
     * when the task already has one: a task ends exactly once.
     */
    async finish(task: TaskIdentity, outcome: TaskOutcome) {
      const fields: Record<string, unknown> = {
        ...outcome,
        taskType: task.taskType,
        businessId: task.businessId,
        callbackUrl: task.callbackUrl,
        finishedAt: new Date().toISOString(),
        [OUTBOX_PENDING_TARGET]: task.callbackUrl,
        [OUTBOX_TTL]: expiresAt(),
      };
      const update = setExpression(fields);
      try {
        await dynamodb.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [OUTBOX_KEY]: task.taskId },
            UpdateExpression: update.expression,
            ConditionExpression: 'attribute_not_exists(#status)',
            ExpressionAttributeNames: { ...update.names, '#status': 'status' },
            ExpressionAttributeValues: update.values,
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    /**
     * Opens a dead-lettered task again for a redrive: a fresh budget of
     * executions, no error history, no final status. `deadLetteredAt` names
     * the dead-lettering being undone, so that a second delivery of the same
     * redriven message does not reset the task again. Resolves to false when
     * it already was reopened for that dead-lettering.
     */
    async reopen(taskId: string, deadLetteredAt: string) {
      try {
        await dynamodb.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [OUTBOX_KEY]: taskId },
            UpdateExpression:
              'SET redrivenFrom = :at, attempts = :zero, errors = :none ' +
              'REMOVE #status, reason, #error, finishedAt, #pending',
            ConditionExpression:
              'attribute_not_exists(redrivenFrom) OR redrivenFrom <> :at',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#error': 'error',
              '#pending': OUTBOX_PENDING_TARGET,
            },
            ExpressionAttributeValues: {
              ':at': deadLetteredAt,
              ':zero': 0,
              ':none': [],
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    /** Reads a task's item, or undefined when the outbox has none. */
    async get(taskId: string): Promise<TaskRecord | undefined> {
      const { Item } = await dynamodb.send(
        new GetCommand({
          TableName: tableName,
          Key: { [OUTBOX_KEY]: taskId },
          ConsistentRead: true,
        }),
      );
      return Item as TaskRecord | undefined;
    },
  };
}

/** A `SET` update of every defined field, with placeholder names and values. */
function setExpression(fields: Record<string, unknown>) {
  const present = Object.entries(fields).filter(([, v]) => v !== undefined);
  return {
    expression: `SET ${present.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
    names: Object.fromEntries(present.map(([k], i) => [`#f${i}`, k])),
    values: Object.fromEntries(present.map(([, v], i) => [`:v${i}`, v])),
  };
}

export type StatusOutbox = ReturnType<typeof createStatusOutbox>;
