/**
 * The statuses waiting for a callback target, read from the status
 * outbox's sparse index by target (oldest first), and their removal from
 * it once delivered or dead-lettered.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { TaskRecord } from '../outbox.ts';
import {
  OUTBOX_KEY,
  OUTBOX_PENDING_INDEX,
  OUTBOX_PENDING_TARGET,
} from '../tables.ts';

/** One entry of a callback request, as receivers get it. */
export interface StatusEntry {
  readonly taskId: string;
  readonly taskType?: string;
  readonly businessId?: string;
  readonly status: 'completed' | 'failed';
  readonly attempts: number;
  /** Why the task failed; only on failed tasks. */
  readonly error?: string;
  /** When the task finished, ISO-8601. */
  readonly finishedAt: string;
}

/** A page of pending statuses. */
export interface PendingBatch {
  readonly statuses: readonly StatusEntry[];
  /** True when more statuses wait beyond this batch. */
  readonly more: boolean;
}

/** How a status left the pending index. */
export interface StatusDisposal {
  /** `delivered`, or the dead-letter reason. */
  readonly callbackState: string;
  readonly at: string;
}

const BATCH_GET_LIMIT = 100;
const PARALLEL_WRITES = 25;

/** Reads and settles the pending statuses of callback targets. */
export function createPendingStatuses(options: {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly tableName: string;
}) {
  const { dynamodb, tableName } = options;

  /** Up to `limit` + 1 keys from the index, oldest first. */
  async function queryKeys(target: string, limit: number) {
    const keys: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: OUTBOX_PENDING_INDEX,
          KeyConditionExpression: '#target = :target',
          ExpressionAttributeNames: { '#target': OUTBOX_PENDING_TARGET },
          ExpressionAttributeValues: { ':target': target },
          ProjectionExpression: OUTBOX_KEY,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) keys.push(String(item[OUTBOX_KEY]));
      start = page.LastEvaluatedKey;
    } while (start && keys.length <= limit);
    return { keys: keys.slice(0, limit), more: keys.length > limit || !!start };
  }

  /**
   * Reads items by key with strongly consistent reads, keeping those still
   * pending for the target: the index is eventually consistent and may
   * still list a status that a moment ago was delivered.
   */
  async function readConsistent(target: string, keys: readonly string[]) {
    const found: TaskRecord[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let request: Record<string, unknown>[] = keys
        .slice(i, i + BATCH_GET_LIMIT)
        .map((key) => ({ [OUTBOX_KEY]: key }));
      while (request.length > 0) {
        const answer = await dynamodb.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: { Keys: request, ConsistentRead: true },
            },
          }),
        );
        found.push(...((answer.Responses?.[tableName] ?? []) as TaskRecord[]));
        request = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    }
    return found
      .filter((item) => pendingTargetOf(item) === target)
      .sort(byFinishTime);
  }

  return {
    /** The oldest `limit` statuses pending for the target. */
    async read(target: string, limit: number): Promise<PendingBatch> {
      const { keys, more } = await queryKeys(target, limit);
      const items = await readConsistent(target, keys);
      return { statuses: items.map(toEntry), more };
    },

    /**
     * Takes statuses out of the target's pending index, each only if it is
     * still pending for that target, and notes how it left.
     */
    async settle(
      target: string,
      statuses: readonly StatusEntry[],
      disposal: StatusDisposal,
    ): Promise<void> {
      for (let i = 0; i < statuses.length; i += PARALLEL_WRITES) {
        const slice = statuses.slice(i, i + PARALLEL_WRITES);
        await Promise.all(
          slice.map((status) => settleOne(status.taskId, target, disposal)),
        );
      }
    },
  };

  async function settleOne(
    taskId: string,
    target: string,
    disposal: StatusDisposal,
  ) {
    try {
      await dynamodb.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { [OUTBOX_KEY]: taskId },
          UpdateExpression:
            'REMOVE #target SET callbackState = :state, callbackAt = :at',
          ConditionExpression: '#target = :targetUrl',
          ExpressionAttributeNames: { '#target': OUTBOX_PENDING_TARGET },
          ExpressionAttributeValues: {
            ':targetUrl': target,
            ':state': disposal.callbackState,
            ':at': disposal.at,
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

export type PendingStatuses = ReturnType<typeof createPendingStatuses>;

function pendingTargetOf(item: TaskRecord): unknown {
  return (item as unknown as Record<string, unknown>)[OUTBOX_PENDING_TARGET];
}

function byFinishTime(a: TaskRecord, b: TaskRecord): number {
  return (a.finishedAt ?? '').localeCompare(b.finishedAt ?? '');
}

/** The fields a receiver gets; the error only for failed tasks. */
export function toEntry(item: TaskRecord): StatusEntry {
  const entry: StatusEntry = {
    taskId: item.taskId,
    taskType: item.taskType,
    businessId: item.businessId,
    status: item.status ?? 'failed',
    attempts: item.attempts ?? 0,
    finishedAt: item.finishedAt ?? '',
  };
  return item.status === 'failed' && item.error
    ? { ...entry, error: item.error }
    : entry;
}
