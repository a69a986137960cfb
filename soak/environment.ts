/**
 * The soak's parent process: the emulators, every resource the stack
 * would create for `soak.effect`, the effects table, and the callback
 * dispatcher with its scheduler. No consumer runs here: they run in the
 * consumer process (consumer-host.ts), which the soak kills and restarts.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../lib/aws-clients.ts';
import type { CallbackLogger } from '../lib/callbacks/dispatcher.ts';
import {
  type LocalCallbacks,
  startLocalCallbacks,
} from '../lib/callbacks/local.ts';
import type { SigningKey } from '../lib/callbacks/secrets.ts';
import { type Emulators, startEmulators } from '../lib/local/emulators.ts';
import {
  createLocalResources,
  type LocalResources,
} from '../lib/local/resources.ts';
import { createRegistry, type TaskRegistry } from '../lib/registry.ts';
import type { SoakOptions } from './options.ts';
import { createEffectsTable, SOAK_TASK_TYPE, soakTask } from './task.ts';

/** Prefix of the soak's resources. */
export const SOAK_PREFIX = 'soak';

/** What the parent process runs. */
export interface SoakEnvironment {
  readonly emulators: Emulators;
  readonly clients: AwsClients;
  readonly registry: TaskRegistry;
  readonly resources: LocalResources;
  readonly effectsTable: string;
  readonly callbacks: LocalCallbacks;
  /** Warnings and errors the dispatcher logged. */
  readonly dispatcherLog: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts the emulators on free ports with the soak's resources; its task
 * queues get the soak's visibility timeout, so that the messages of a
 * killed batch come back in seconds rather than the deployed 3 minutes.
 */
export async function startSoakEnvironment(
  options: SoakOptions,
  signingKey: SigningKey,
): Promise<SoakEnvironment> {
  const emulators = await startEmulators({ messaging: 0, dynamodb: 0 });
  const clients = createAwsClients(emulators.clientOptions);
  const effectsTable = `${SOAK_PREFIX}-effects`;
  const registry = createRegistry([soakTask({ effectsTable, generation: 0 })]);
  const resources = await createLocalResources(clients, registry, SOAK_PREFIX);
  await createEffectsTable(clients, effectsTable);
  await shortenVisibility(clients, resources, options.visibilitySeconds);

  const dispatcherLog: string[] = [];
  const callbacks = startLocalCallbacks({
    clients,
    tables: {
      statusOutbox: resources.names.statusOutboxTable,
      callbackTargets: resources.names.callbackTargetsTable,
    },
    deadLetterQueueUrl: resources.callbacksDeadLetterQueueUrl,
    signingKey,
    timing: { intervalMs: options.callbackIntervalMs },
    logger: collectingLogger(dispatcherLog),
  });
  return {
    emulators,
    clients,
    registry,
    resources,
    effectsTable,
    callbacks,
    dispatcherLog,
    async stop() {
      await callbacks.stop();
      destroyAwsClients(clients);
      await emulators.stop();
    },
  };
}

async function shortenVisibility(
  clients: AwsClients,
  resources: LocalResources,
  seconds: number,
): Promise<void> {
  for (const queue of resources.queues) {
    if (queue.taskType !== SOAK_TASK_TYPE) continue;
    await clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.url,
        Attributes: { VisibilityTimeout: String(seconds) },
      }),
    );
  }
}

/** Keeps the dispatcher's warnings and errors, at most 1,000 of them. */
function collectingLogger(lines: string[]): CallbackLogger {
  const keep = (level: string, message: string, fields: object) => {
    if (lines.length < 1_000) {
      lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    }
  };
  return {
    info() {},
    warn: (message, fields) => keep('WARN', message, fields),
    error: (message, fields) => keep('ERROR', message, fields),
  };
}
