import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../task-module.ts';

/**
 * Executions of each `demo.flaky` task in this process, by task id: the
 * demo prints them and the tests check that a task's work ran only as often
 * as its failures required.
 */
export const demoExecutions = new Map<string, number>();

/**
 * A task type for the demo and the tests: it fails its first `failTimes`
 * executions in this process, then works for `workMs` and succeeds. It shows retries, time
 * budgets and dead-lettering without touching a business system.
 */
export const demoFlaky = defineTask({
  taskType: 'demo.flaky',
  description: 'Fails a given number of times, then succeeds',
  payloadSchema: z.strictObject({
    failTimes: z.int().min(0).max(10).default(0),
    workMs: z.int().min(0).max(60_000).default(0),
  }),
  defaults: { timeoutMs: 2_000, maxConcurrency: 5, batchSize: 10 },

  async findMissingBusinessId(envelope) {
    return envelope.businessId.startsWith('missing-')
      ? 'demo business ids starting with missing- do not exist'
      : undefined;
  },

  async handle({ envelope, payload, signal }) {
    // Counted in executions of this process, not attempts, so that a task
    // redriven after its last failure can succeed.
    const execution = (demoExecutions.get(envelope.id) ?? 0) + 1;
    demoExecutions.set(envelope.id, execution);
    if (execution <= payload.failTimes) {
      throw new Error(`demo failure ${execution} of ${payload.failTimes}`);
    }
    await sleep(payload.workMs, undefined, { signal });
  },
});
