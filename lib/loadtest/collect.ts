/**
 * Reads the final status of the sent tasks from the status outbox, many
 * keys per request, until all have one or the wait runs out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { FinalStatus } from '../outbox.ts';
import { OUTBOX_KEY } from '../tables.ts';

/** Keys of one BatchGetItem request, the most DynamoDB takes. */
export const KEYS_PER_READ = 100;

/** Reads in flight at once: enough to keep up, few enough not to load the table. */
const PARALLEL_READS = 4;

/** The final status of one task, as the consumer recorded it. */
export interface FinalRecord {
  readonly taskId: string;
  readonly status: FinalStatus;
  /** Epoch ms the consumer recorded the status (ms precision). */
  readonly finishedAt: number;
  /** Executions the task took. */
  readonly attempts: number;
  /** Why a failed task failed: INVALID or RETRIES_EXHAUSTED. */
  readonly reason?: string;
}

/** Where the outbox is. */
export interface OutboxSource {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** How long and how often to look. */
export interface WaitOptions {
  /** Longest wait, in ms. */
  readonly timeoutMs: number;
  /** Pause between two rounds of reads, in ms. @default 1000 */
  readonly intervalMs?: number;
  /** Called after each round with the number of tasks that have ended. */
  readonly onProgress?: (ended: number) => void;
}

/**
 * Reads the tasks' outbox items until every task has a final status or the
 * time is up; resolves to the final records found, by task id.
 */
export async function waitForFinal(
  source: OutboxSource,
  taskIds: readonly string[],
  options: WaitOptions,
): Promise<Map<string, FinalRecord>> {
  const found = new Map<string, FinalRecord>();
  const deadline = Date.now() + options.timeoutMs;
  let pending = [...taskIds];
  for (;;) {
    for (const record of await readFinal(source, pending)) {
      found.set(record.taskId, record);
    }
    pending = pending.filter((id) => !found.has(id));
    options.onProgress?.(found.size);
    if (pending.length === 0 || Date.now() >= deadline) return found;
    // A round reads every pending task; once a second keeps those reads
    // from slowing a local pipeline whose DynamoDB shares its process.
    await sleep(options.intervalMs ?? 1000);
  }
}

/** The final records among the tasks; tasks still running are left out. */
export async function readFinal(
  source: OutboxSource,
  taskIds: readonly string[],
): Promise<FinalRecord[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < taskIds.length; i += KEYS_PER_READ) {
    chunks.push(taskIds.slice(i, i + KEYS_PER_READ));
  }
  const records: FinalRecord[] = [];
  for (let i = 0; i < chunks.length; i += PARALLEL_READS) {
    const reads = chunks
      .slice(i, i + PARALLEL_READS)
      .map((chunk) => readChunk(source, chunk));
    for (const items of await Promise.all(reads)) records.push(...items);
  }
  return records;
}

/** One BatchGetItem; keys DynamoDB leaves unprocessed wait for the next round. */
async function readChunk(
  source: OutboxSource,
  taskIds: readonly string[],
): Promise<FinalRecord[]> {
  const { Responses } = await source.dynamodb.send(
    new BatchGetCommand({
      RequestItems: {
        [source.tableName]: {
          Keys: taskIds.map((id) => ({ [OUTBOX_KEY]: id })),
          ConsistentRead: true,
          ProjectionExpression: '#id, #status, #finished, #attempts, #reason',
          ExpressionAttributeNames: {
            '#id': OUTBOX_KEY,
            '#status': 'status',
            '#finished': 'finishedAt',
            '#attempts': 'attempts',
            '#reason': 'reason',
          },
        },
      },
    }),
  );
  const items = Responses?.[source.tableName] ?? [];
  return items.flatMap((item) => toFinal(item));
}

function toFinal(item: Record<string, unknown>): FinalRecord[] {
  const { status, finishedAt } = item;
  if (status !== 'completed' && status !== 'failed') return [];
  const finished = Date.parse(String(finishedAt));
  if (Number.isNaN(finished)) return [];
  return [
    {
      taskId: String(item[OUTBOX_KEY]),
      status,
      finishedAt: finished,
      attempts: Number(item.attempts ?? 0),
      ...(typeof item.reason === 'string' && { reason: item.reason }),
    },
  ];
}
