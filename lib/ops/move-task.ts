import { setTimeout as sleep } from 'node:timers/promises';
import {
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

/** An SQS message move task, as ListMessageMoveTasks reports it. */
export interface MoveTaskStatus {
  readonly status: string;
  readonly moved: number;
  readonly toMove?: number;
  readonly failureReason?: string;
}

const DONE = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/**
 * Starts an SQS message move task from a dead-letter queue to a queue.
 * A move task has one destination: SQS can return messages to their own
 * sources only for those its redrive policy moved, not for those the
 * consumer dead-lettered itself, so the destination is always named.
 */
export async function startMoveTask(
  sqs: SQSClient,
  sourceArn: string,
  destinationArn: string,
): Promise<string> {
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      DestinationArn: destinationArn,
    }),
  );
  if (!TaskHandle) throw new Error('SQS returned no message move task');
  return TaskHandle;
}

/** Polls a move task until it ends; `onStatus` hears of each reading. */
export async function waitForMoveTask(
  sqs: SQSClient,
  sourceArn: string,
  taskHandle: string,
  options: { pollMs: number; onStatus?: (status: MoveTaskStatus) => void },
): Promise<MoveTaskStatus> {
  for (;;) {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }),
    );
    // Only a running task carries its handle; the newest comes first.
    const entry =
      Results.find((r) => r.TaskHandle === taskHandle) ?? Results[0];
    if (!entry) throw new Error(`no message move task from ${sourceArn}`);
    const status = moveTaskStatus(entry);
    options.onStatus?.(status);
    if (DONE.has(status.status)) return status;
    await sleep(options.pollMs);
  }
}

function moveTaskStatus(entry: ListMessageMoveTasksResultEntry) {
  return {
    status: entry.Status ?? 'UNKNOWN',
    moved: entry.ApproximateNumberOfMessagesMoved ?? 0,
    toMove: entry.ApproximateNumberOfMessagesToMove,
    failureReason: entry.FailureReason,
  };
}
