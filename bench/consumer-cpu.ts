import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createConsumer } from '../lambdas/consumer/consumer.ts';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../lib/aws-clients.ts';
import { demoFlaky } from '../lib/local/demo-tasks.ts';
import { createLambdaContext } from '../lib/local/lambda-context.ts';
import {
  createLocalResources,
  type LocalResources,
} from '../lib/local/resources.ts';
import { createRegistry, type TaskRegistry } from '../lib/registry.ts';
import type { TaskModule } from '../lib/task-module.ts';
import { recordBatches } from './records.ts';
import {
  type RemoteEmulators,
  startRemoteEmulators,
} from './remote-emulators.ts';
import { countRequests, type RequestCounter } from './request-counter.ts';
import { median, ratio } from './stats.ts';
import { discardingStdout } from './stdout-sink.ts';
import { createStockConsumer } from './stock-recipe.ts';

/** How much work the CPU benchmark does. */
export interface ConsumerCpuOptions {
  /** Records per consumer and round. */
  readonly records: number;
  /** Measured rounds per consumer. */
  readonly rounds: number;
  /** Records per consumer run first, unmeasured, to warm the JIT up. */
  readonly warmUpRecords: number;
  /** Records per invocation. @default 10 */
  readonly batchSize?: number;
}

/** One consumer's figures, per record. */
export interface ConsumerSample {
  /** User plus system CPU time of this process per record, per round. */
  readonly cpuUsPerRound: number[];
  readonly medianCpuUs: number;
  readonly medianWallUs: number;
  /** CPU time of the emulators (dynalite) per record, not in the above. */
  readonly medianEmulatorCpuUs: number;
  /** DynamoDB requests the consumer sent, per record. */
  readonly dynamodbRequests: number;
  /** Log lines and metric blobs written, per record. */
  readonly stdoutWrites: number;
}

export interface ConsumerCpuResult {
  readonly records: number;
  readonly batchSize: number;
  readonly rounds: number;
  readonly tasklane: ConsumerSample;
  readonly stock: ConsumerSample;
  /** Median CPU per record of tasklane over the stock recipe's. */
  readonly ratio: number;
}

type BatchHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse>;

interface Round {
  readonly cpuUs: number;
  readonly wallUs: number;
  readonly emulatorCpuUs: number;
  readonly requests: number;
  readonly writes: number;
}

const CONSUMERS = ['tasklane', 'stock'] as const;
type ConsumerName = (typeof CONSUMERS)[number];

/**
 * CPU time per record of tasklane's consumer against the stock Powertools
 * recipe, on the same records and the same idempotency table. The
 * emulators run in a child process, so the CPU time measured here is the
 * consumers' own (their AWS SDK calls, logs and metrics included), not
 * dynalite's, which is reported apart. Rounds alternate which consumer
 * goes first; batches run one after the other, as one Lambda sandbox runs
 * them.
 */
export async function benchConsumerCpu(
  options: ConsumerCpuOptions,
): Promise<ConsumerCpuResult> {
  const batchSize = options.batchSize ?? 10;
  const emulators = await startRemoteEmulators();
  const clients = createAwsClients(emulators.clientOptions);
  try {
    const registry = createRegistry([demoFlaky as TaskModule]);
    const resources = await createLocalResources(clients, registry, 'bench');
    const counter = countRequests(clients.dynamodbClient);
    const handlers = buildConsumers(clients, registry, resources);
    const queueArn = resources.queues[0]?.arn ?? '';
    const run = (name: ConsumerName, records: number) =>
      measure(handlers[name], recordBatches(records, batchSize, queueArn), {
        counter,
        emulators,
        records,
      });

    for (const name of CONSUMERS) await run(name, options.warmUpRecords);
    const rounds = await runRounds(options, run);
    return summarize(options, batchSize, rounds);
  } finally {
    destroyAwsClients(clients);
    await emulators.stop();
  }
}

/** The measured rounds, alternating which consumer goes first. */
async function runRounds(
  options: ConsumerCpuOptions,
  run: (name: ConsumerName, records: number) => Promise<Round>,
): Promise<Record<ConsumerName, Round[]>> {
  const rounds: Record<ConsumerName, Round[]> = { tasklane: [], stock: [] };
  for (let index = 0; index < options.rounds; index += 1) {
    const order = index % 2 === 0 ? CONSUMERS : [...CONSUMERS].reverse();
    for (const name of order) {
      rounds[name].push(await run(name, options.records));
    }
  }
  return rounds;
}

/**
 * Both consumers of `demo.flaky` on the same clients and table. tasklane's
 * keeps its deployed logger (INFO) and metrics (embedded metric format);
 * the stock recipe has neither.
 */
function buildConsumers(
  clients: AwsClients,
  registry: TaskRegistry,
  resources: LocalResources,
): Record<ConsumerName, BatchHandler> {
  const tasklane = createConsumer({
    taskType: 'demo.flaky',
    registry,
    clients,
    tables: {
      idempotency: resources.names.idempotencyTable,
      statusOutbox: resources.names.statusOutboxTable,
    },
    env: resources.env,
  });
  const stock = createStockConsumer({
    registry,
    services: { clients, env: resources.env, logger: new Logger() },
    dynamodbClient: clients.dynamodbClient,
    tableName: resources.names.idempotencyTable,
  });
  return { tasklane, stock };
}

/** What a round is measured with besides the clock. */
interface Meter {
  readonly counter: RequestCounter;
  readonly emulators: RemoteEmulators;
  readonly records: number;
}

/**
 * Runs the batches one by one, standard output dropped; CPU time (this
 * process and the emulators'), wall time, requests and writes per record.
 */
async function measure(
  handler: BatchHandler,
  batches: SQSEvent['Records'][],
  meter: Meter,
): Promise<Round> {
  const requestsBefore = meter.counter.count;
  const emulatorBefore = await meter.emulators.cpuUs();
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const { writes } = await discardingStdout(() => invokeAll(handler, batches));
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - startedAt;
  const emulatorUs = (await meter.emulators.cpuUs()) - emulatorBefore;
  const { records } = meter;
  return {
    cpuUs: (cpu.user + cpu.system) / records,
    wallUs: (wallMs * 1000) / records,
    emulatorCpuUs: emulatorUs / records,
    requests: (meter.counter.count - requestsBefore) / records,
    writes: writes / records,
  };
}

/** Invokes the handler per batch, as Lambda would; every record must pass. */
async function invokeAll(
  handler: BatchHandler,
  batches: SQSEvent['Records'][],
): Promise<void> {
  for (const Records of batches) {
    const context = createLambdaContext({
      functionName: 'bench-demo-flaky',
      timeoutMs: 30_000,
    });
    const response = await handler({ Records }, context);
    const failed = response?.batchItemFailures.length ?? 0;
    if (failed > 0) throw new Error(`${failed} records failed in the bench`);
  }
}

function summarize(
  options: ConsumerCpuOptions,
  batchSize: number,
  rounds: Record<ConsumerName, Round[]>,
): ConsumerCpuResult {
  const sample = (list: Round[]): ConsumerSample => ({
    cpuUsPerRound: list.map((round) => round.cpuUs),
    medianCpuUs: median(list.map((round) => round.cpuUs)),
    medianWallUs: median(list.map((round) => round.wallUs)),
    medianEmulatorCpuUs: median(list.map((round) => round.emulatorCpuUs)),
    dynamodbRequests: median(list.map((round) => round.requests)),
    stdoutWrites: median(list.map((round) => round.writes)),
  });
  const tasklane = sample(rounds.tasklane);
  const stock = sample(rounds.stock);
  return {
    records: options.records,
    batchSize,
    rounds: options.rounds,
    tasklane,
    stock,
    ratio: ratio(tasklane.medianCpuUs, stock.medianCpuUs),
  };
}
