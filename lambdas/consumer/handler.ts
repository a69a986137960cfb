/**
 * Lambda entry of a consumer function. The stack deploys it once per task
 * type of the built-in registry and names the task type and tables in the
 * environment. A deployment with its own task types uses an entry like this
 * one that passes its own registry to `createConsumer`.
 */
import { createAwsClients } from '../../lib/aws-clients.ts';
import { CALLBACK_ENV, notifierFromEnv } from '../../lib/callbacks/env.ts';
import { builtInRegistry } from '../tasks/index.ts';
import { createConsumer } from './consumer.ts';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const clients = createAwsClients();

export const handler = createConsumer({
  taskType: requireEnv('TASKLANE_TASK_TYPE'),
  registry: builtInRegistry,
  clients,
  tables: {
    idempotency: requireEnv('TASKLANE_IDEMPOTENCY_TABLE'),
    statusOutbox: requireEnv('TASKLANE_STATUS_OUTBOX_TABLE'),
  },
  // Without a targets table the stack has no callbacks for this function.
  callbacks: process.env[CALLBACK_ENV.targetsTable]
    ? notifierFromEnv(process.env, clients)
    : undefined,
  callbackUrl: process.env.TASKLANE_CALLBACK_URL || undefined,
});
