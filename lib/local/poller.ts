import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { preview } from '../errors.ts';
import {
  invokeSqsHandler,
  type SqsBatchHandler,
  toSqsRecord,
} from './lambda-context.ts';

export type { SqsBatchHandler } from './lambda-context.ts';

/** Where the poller reports what went wrong; the fields carry the data. */
export interface PollerLogger {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** How the poller reads one queue and invokes one function. */
export interface PollerOptions {
  /** The client to receive and delete with; it names its own endpoint. */
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Becomes `eventSourceARN` of each record. */
  readonly queueArn: string;
  /** Becomes `awsRegion` of each record. @default 'us-east-1' */
  readonly region?: string;
  readonly handler: SqsBatchHandler;
  /** Name of the function in the Lambda context. */
  readonly functionName: string;
  /** Past this, the batch fails as a Lambda timeout does. @default 3000 */
  readonly functionTimeoutMs?: number;
  /** Records per batch, 1-10. @default 10 */
  readonly batchSize?: number;
  /**
   * Time to gather a batch, 0-300000 ms; 0 hands over what one receive
   * returns. @default 0
   */
  readonly batchingWindowMs?: number;
  /** Batches in flight at once, at least 1. @default 2 */
  readonly maxConcurrency?: number;
  /** Long poll per receive, 0-20 s; short keeps stop() prompt. @default 1 */
  readonly waitTimeSeconds?: number;
  /** @default - a Powertools logger: one JSON object per line */
  readonly logger?: PollerLogger;
}

/** Counts since the poller started. */
export interface PollerStats {
  /** Batches handed to the handler. */
  readonly batches: number;
  /** Messages received from the queue. */
  readonly received: number;
  /** Messages deleted after the handler succeeded with them. */
  readonly deleted: number;
  /** Messages left on the queue because the handler failed with them. */
  readonly failed: number;
}

/** A running poller. */
export interface Poller {
  /** Receives no more; resolves once every batch in flight is settled. */
  stop(): Promise<void>;
  /** Changes how many batches may be in flight at once, 1-1000. */
  setMaxConcurrency(maxConcurrency: number): void;
  stats(): PollerStats;
}

type Settings = Required<PollerOptions>;

// An emulator may answer an empty long poll at once; this pause keeps such
// answers from turning the receive loop into a busy loop.
const EMPTY_RECEIVE_PAUSE_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/** The range of each option, in the unit its name gives. */
const LIMITS = {
  batchSize: [1, 10],
  batchingWindowMs: [0, 300_000],
  maxConcurrency: [1, 1_000],
  waitTimeSeconds: [0, 20],
  functionTimeoutMs: [1, 900_000],
} as const;

/**
 * Starts polling a queue the way the Lambda SQS event source mapping does,
 * invoking `handler` with Lambda's event and context. Records the handler
 * does not list in `batchItemFailures` are deleted; a failed or timed-out
 * batch stays on the queue until its visibility timeout brings it back.
 *
 * @example
 * const poller = startPoller({ sqs, queueUrl, queueArn, handler,
 *   functionName: 'tasklane-email-send', functionTimeoutMs: 30_000 });
 * await poller.stop();
 */
export function startPoller(options: PollerOptions): Poller {
  return new QueuePoller(withDefaults(options));
}

function withDefaults(options: PollerOptions): Settings {
  const settings: Settings = {
    ...options,
    region: options.region ?? 'us-east-1',
    functionTimeoutMs: options.functionTimeoutMs ?? 3_000,
    batchSize: options.batchSize ?? 10,
    batchingWindowMs: options.batchingWindowMs ?? 0,
    maxConcurrency: options.maxConcurrency ?? 2,
    waitTimeSeconds: options.waitTimeSeconds ?? 1,
    logger: options.logger ?? new Logger({ serviceName: 'tasklane-poller' }),
  };
  for (const [field, [min, max]] of Object.entries(LIMITS)) {
    checkRange(field, settings[field as keyof typeof LIMITS], min, max);
  }
  return settings;
}

function checkRange(field: string, value: number, min: number, max: number) {
  if (Number.isInteger(value) && value >= min && value <= max) return;
  throw new RangeError(
    `${field} must be an integer of ${min}-${max}, got ${preview(value)}`,
  );
}

class QueuePoller implements Poller {
  readonly #settings: Settings;
  readonly #stopping = new AbortController();
  readonly #workers: Promise<void>[] = [];
  readonly #counts = { batches: 0, received: 0, deleted: 0, failed: 0 };
  #limit: number;
  #active = 0;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#limit = settings.maxConcurrency;
    this.#grow();
  }

  setMaxConcurrency(maxConcurrency: number): void {
    checkRange('maxConcurrency', maxConcurrency, 1, 1000);
    this.#limit = maxConcurrency;
    this.#grow();
  }

  // Each worker has at most one batch in flight, so their number is the
  // mapping's maximum concurrency. Workers above a lowered limit leave
  // after their batch.
  #grow(): void {
    while (this.#active < this.#limit && !this.#stopping.signal.aborted) {
      this.#active += 1;
      this.#workers.push(this.#work());
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.all(this.#workers);
    this.#log('info', 'poller stopped', { ...this.#counts });
  }

  stats(): PollerStats {
    return { ...this.#counts };
  }

  async #work(): Promise<void> {
    let errors = 0;
    while (!this.#stopping.signal.aborted) {
      if (this.#active > this.#limit) {
        this.#active -= 1;
        return;
      }
      try {
        const messages = await this.#collect();
        errors = 0;
        if (messages.length > 0) await this.#runBatch(messages);
      } catch (error) {
        errors += 1;
        const delayMs = Math.min(MAX_BACKOFF_MS, 200 * 2 ** (errors - 1));
        this.#log('warn', 'receiving from the queue failed; retrying', {
          error: describe(error),
          delayMs,
        });
        await this.#pause(delayMs);
      }
    }
  }

  /** One batch: a receive, then more until full or the window passes. */
  async #collect(): Promise<Message[]> {
    const { batchSize, batchingWindowMs, waitTimeSeconds } = this.#settings;
    const batch = await this.#receive(batchSize, waitTimeSeconds);
    const deadline = Date.now() + batchingWindowMs;
    while (batch.length > 0 && batch.length < batchSize) {
      const leftMs = deadline - Date.now();
      if (leftMs <= 0 || this.#stopping.signal.aborted) break;
      const waitSeconds = Math.min(waitTimeSeconds, Math.floor(leftMs / 1000));
      try {
        batch.push(
          ...(await this.#receive(batchSize - batch.length, waitSeconds)),
        );
      } catch (error) {
        // What is already received goes to the handler rather than waiting
        // out its visibility timeout.
        this.#log('warn', 'receiving more for the batch failed', {
          error: describe(error),
        });
        break;
      }
    }
    return batch;
  }

  async #receive(max: number, waitSeconds: number): Promise<Message[]> {
    const startedAt = Date.now();
    const { Messages = [] } = await this.#settings.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#settings.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    this.#counts.received += Messages.length;
    const tookMs = Date.now() - startedAt;
    if (Messages.length === 0 && tookMs < EMPTY_RECEIVE_PAUSE_MS) {
      await this.#pause(EMPTY_RECEIVE_PAUSE_MS);
    }
    return Messages;
  }

  async #runBatch(messages: Message[]): Promise<void> {
    const { queueArn, region } = this.#settings;
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    this.#counts.batches += 1;

    const succeeded = await this.#invoke(records);
    this.#counts.failed += records.length - succeeded.length;
    await this.#delete(succeeded);
  }

  /** Runs the handler; the records that succeeded, none if the batch failed. */
  async #invoke(records: SQSRecord[]): Promise<SQSRecord[]> {
    const { handler, functionName, functionTimeoutMs, region } = this.#settings;
    const accountId = this.#settings.queueArn.split(':')[4] || undefined;
    const outcome = await invokeSqsHandler(handler, records, {
      functionName,
      timeoutMs: functionTimeoutMs,
      region,
      accountId,
    });
    if (outcome.kind === 'completed') return outcome.succeeded;

    const timedOut = outcome.kind === 'timed-out';
    const reason = timedOut
      ? { functionTimeoutMs }
      : { error: describe(outcome.error) };
    const what = timedOut ? 'timed out' : 'failed';
    this.#log('error', `function ${what}; the batch will return`, {
      functionName,
      awsRequestId: outcome.awsRequestId,
      ...reason,
    });
    return [];
  }

  async #delete(records: SQSRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += 10) {
      const chunk = records.slice(start, start + 10);
      try {
        const { Successful = [], Failed = [] } = await this.#settings.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#settings.queueUrl,
            Entries: chunk.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
        this.#counts.deleted += Successful.length;
        for (const failure of Failed) {
          this.#log('warn', 'deleting a message failed; it will return', {
            messageId: chunk[Number(failure.Id)]?.messageId,
            code: failure.Code,
          });
        }
      } catch (error) {
        this.#log('error', 'deleting messages failed; they will return', {
          messageIds: chunk.map((record) => record.messageId),
          error: describe(error),
        });
      }
    }
  }

  #pause(ms: number): Promise<void> {
    const signal = this.#stopping.signal;
    return sleep(ms, undefined, { signal }).catch(() => undefined);
  }

  #log(
    level: keyof PollerLogger,
    message: string,
    fields: Record<string, unknown>,
  ): void {
    this.#settings.logger[level](message, {
      queueUrl: this.#settings.queueUrl,
      ...fields,
    });
  }
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  return { name: error.name, message: error.message };
}
