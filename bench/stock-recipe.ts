import {
  BatchProcessor,
  EventType,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import {
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type Envelope, envelopeSchema } from '../lib/envelope.ts';
import type { TaskRegistry } from '../lib/registry.ts';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_TTL } from '../lib/tables.ts';
import type { TaskServices } from '../lib/task-module.ts';

/** What the stock consumer is made of. */
export interface StockConsumerOptions {
  /** The task types the consumer runs; the same modules tasklane runs. */
  readonly registry: TaskRegistry;
  /** Clients, environment and logger handed to the task modules. */
  readonly services: TaskServices;
  /** The client the idempotency records are written with. */
  readonly dynamodbClient: DynamoDBClient;
  /** The idempotency table, laid out as tasklane's. */
  readonly tableName: string;
}

/** An SQS record whose body the parser turned into an envelope. */
interface ParsedRecord {
  readonly body: Envelope;
}

/**
 * The stock Powertools recipe for an SQS consumer, the baseline of the
 * benchmarks: `BatchProcessor` with the parser integration (the record
 * schema extended with the envelope schema through `JSONStringified`),
 * `processPartialResponse`, and `makeIdempotent` keyed by the envelope id
 * on a DynamoDB persistence layer. The task runs with its payload parsed
 * and a time budget, as in tasklane; there is no business-id check, status
 * outbox, execution count, retry schedule, dead-lettering, logging or
 * metrics, which is what the comparison weighs.
 *
 * @example
 * const handler = createStockConsumer({ registry, services,
 *   dynamodbClient, tableName: 'tasklane-idempotency' });
 * await handler(event, context);
 */
export function createStockConsumer(options: StockConsumerOptions) {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    expiresAfterSeconds: 24 * 3600,
  });
  const runTask = makeIdempotent(
    (envelope: Envelope) => runModule(envelope, options),
    { persistenceStore: persistence(options), config },
  );
  // Built once: the parser's `innerSchema` form would extend the record
  // schema again for every record.
  const schema = SqsRecordSchema.extend({
    body: JSONStringified(envelopeSchema()),
  });
  const recordHandler = (record: ParsedRecord) => runTask(record.body);

  return (event: SQSEvent, context: Context) => {
    config.registerLambdaContext(context);
    // One processor per invocation, as tasklane's: a processor holds the
    // state of one batch, and batches may run side by side.
    const processor = new BatchProcessor(EventType.SQS, { parser, schema });
    return processPartialResponse(event, recordHandler, processor, {
      context,
    }) as Promise<SQSBatchResponse>;
  };
}

function persistence(options: StockConsumerOptions) {
  return new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    keyAttr: IDEMPOTENCY_KEY,
    expiryAttr: IDEMPOTENCY_TTL,
    awsSdkV3Client: options.dynamodbClient,
  });
}

/** Parses the payload and runs the task module within its time budget. */
async function runModule(
  envelope: Envelope,
  options: StockConsumerOptions,
): Promise<{ done: true }> {
  const module = options.registry.get(envelope.taskType);
  const payload = module.payloadSchema.parse(envelope.payload);
  const budgetMs = envelope.timeoutMs ?? module.defaults.timeoutMs;
  await module.handle({
    ...options.services,
    envelope,
    payload,
    attempt: 1,
    signal: AbortSignal.timeout(budgetMs),
  });
  return { done: true };
}
