/**
 * The soak's task type, `soak.effect`. Its business effect is one write to
 * the effects table, so the effect is counted durably, across the consumer
 * processes the soak kills:
 *
 * - `executions`: every execution that reached its end (effect or failure);
 * - `effects`: every time the effect was performed;
 * - `firstEffectAt`, `firstEffectGeneration`: when and in which consumer
 *   process the effect first happened, written only by the first one;
 * - `lastEffectAt`, `lastEffectGeneration`: the same for the latest one.
 *
 * The effect is idempotent by task id (the `first...` fields are set once),
 * as a business system should make it; `effects` above 1 shows a repeat
 * that the pipeline's idempotency did not prevent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { AwsClients } from '../lib/aws-clients.ts';
import { defineTask, type TaskModule } from '../lib/task-module.ts';

export const SOAK_TASK_TYPE = 'soak.effect';

/** Key of the effects table: the task id. */
export const EFFECTS_KEY = 'taskId';

/** How a soak task behaves. */
export const SOAK_KINDS = ['plain', 'transient', 'poison'] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

const payloadSchema = z.strictObject({
  /** plain succeeds; transient fails its first execution; poison always. */
  kind: z.enum(SOAK_KINDS),
  workMs: z.int().min(0).max(1_000).default(0),
});

/** Where a soak task records its effect, and who runs it. */
export interface SoakTaskOptions {
  readonly effectsTable: string;
  /** Number of the consumer process running the task, from 1; 0 if none. */
  readonly generation: number;
}

/**
 * The `soak.effect` task module: transient tasks fail their first
 * execution, poison tasks every one; the others work for `workMs`, then
 * perform their effect.
 */
export function soakTask(options: SoakTaskOptions): TaskModule {
  return defineTask({
    taskType: SOAK_TASK_TYPE,
    description: 'Soak test task: fails as told, else writes one effect',
    payloadSchema,
    defaults: { timeoutMs: 2_000, maxConcurrency: 4, batchSize: 10 },

    async findMissingBusinessId() {
      return undefined;
    },

    async handle({ envelope, payload, attempt, signal, clients }) {
      const failing =
        payload.kind === 'poison' ||
        (payload.kind === 'transient' && attempt === 1);
      if (failing) {
        await countExecution(clients, options, envelope.id, signal);
        throw new Error(`soak ${payload.kind} failure at attempt ${attempt}`);
      }
      await sleep(payload.workMs, undefined, { signal });
      await performEffect(clients, options, envelope.id, signal);
    },
  }) as TaskModule;
}

/** Counts a failing execution; it performs no effect. */
async function countExecution(
  clients: AwsClients,
  options: SoakTaskOptions,
  taskId: string,
  abortSignal: AbortSignal,
): Promise<void> {
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: options.effectsTable,
      Key: { [EFFECTS_KEY]: taskId },
      UpdateExpression: 'ADD executions :one',
      ExpressionAttributeValues: { ':one': 1 },
    }),
    { abortSignal },
  );
}

/** The business effect, in one atomic write with its counters. */
async function performEffect(
  clients: AwsClients,
  options: SoakTaskOptions,
  taskId: string,
  abortSignal: AbortSignal,
): Promise<void> {
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: options.effectsTable,
      Key: { [EFFECTS_KEY]: taskId },
      UpdateExpression:
        'ADD executions :one, effects :one ' +
        'SET firstEffectAt = if_not_exists(firstEffectAt, :now), ' +
        'firstEffectGeneration = if_not_exists(firstEffectGeneration, :gen), ' +
        'lastEffectAt = :now, lastEffectGeneration = :gen',
      ExpressionAttributeValues: {
        ':one': 1,
        ':now': Date.now(),
        ':gen': options.generation,
      },
    }),
    { abortSignal },
  );
}

/** Creates the effects table on the emulator. */
export async function createEffectsTable(
  clients: AwsClients,
  tableName: string,
): Promise<void> {
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: EFFECTS_KEY, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: EFFECTS_KEY, KeyType: 'HASH' }],
    }),
  );
}
