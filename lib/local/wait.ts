import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusOutbox, TaskRecord } from '../outbox.ts';

/** Outbox items that reached their final status, by task id. */
export type FinalRecords = Map<string, TaskRecord>;

/**
 * Polls the status outbox until every task has its final status, or the
 * time runs out; resolves to the records found, finished or not.
 */
export async function waitForFinalStatus(
  outbox: StatusOutbox,
  taskIds: readonly string[],
  timeoutMs = 30_000,
): Promise<FinalRecords> {
  const done: FinalRecords = new Map();
  const deadline = Date.now() + timeoutMs;
  while (done.size < taskIds.length && Date.now() < deadline) {
    const waiting = taskIds.filter((id) => !done.has(id));
    // Ten reads at a time keep the emulator busy without queueing up.
    for (let i = 0; i < waiting.length; i += 10) {
      const records = await Promise.all(
        waiting.slice(i, i + 10).map((id) => outbox.get(id)),
      );
      for (const record of records) {
        if (record?.status) done.set(record.taskId, record);
      }
    }
    if (done.size < taskIds.length) await sleep(100);
  }
  return done;
}
