import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { AwsClients } from './aws-clients.ts';
import type { Envelope } from './envelope.ts';

/** Settings a task type runs with unless the envelope or the stack says otherwise. */
export interface TaskDefaults {
  /** Time budget of one execution, in ms, when the envelope names none. */
  readonly timeoutMs: number;
  /** Most executions of this task type running at once (normal lane). */
  readonly maxConcurrency: number;
  /** Records handed to one invocation, 1 to 10. */
  readonly batchSize: number;
}

/** What a task module may use besides its task. */
export interface TaskServices {
  readonly clients: AwsClients;
  /** Names of the resources the stack made, as environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

/** One execution of a task. */
export interface TaskRun<P> extends TaskServices {
  readonly envelope: Envelope;
  readonly payload: P;
  /** Which execution this is, from 1. */
  readonly attempt: number;
  /** Aborts when the task's time budget runs out; pass it to every call. */
  readonly signal: AbortSignal;
}

/**
 * A task type: its payload schema, its business-id check, its handler and
 * its defaults. One module per task type; the registry lists them.
 */
export interface TaskModule<P = unknown> {
  readonly taskType: string;
  readonly description: string;
  readonly payloadSchema: z.ZodType<P>;
  readonly defaults: TaskDefaults;
  /**
   * Resolves to a reason when the business id names nothing that exists,
   * to undefined when it does. A missing business id is never retried.
   */
  findMissingBusinessId(
    envelope: Envelope,
    payload: P,
    services: TaskServices,
  ): Promise<string | undefined>;
  /** Does the work; throws to fail the attempt, which is then retried. */
  handle(run: TaskRun<P>): Promise<void>;
}

/** Declares a task module with its payload type inferred from the schema. */
export function defineTask<S extends z.ZodType>(
  module: TaskModule<z.output<S>> & { payloadSchema: S },
): TaskModule<z.output<S>> {
  return module;
}
