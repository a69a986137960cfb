/**
 * `npm run bench`: three benchmarks, each a ratio of tasklane to a
 * baseline measured in the same run on this machine, printed as tables and
 * written to bench/results.json.
 *
 * 1. Consumer CPU time per record: tasklane's consumer against the stock
 *    Powertools recipe, same records, same idempotency table.
 * 2. Local throughput: the local pipeline against raw send, receive and
 *    delete on the same fauxqs with the same concurrency.
 * 3. Consumer bundle: size and module load time against the stock
 *    recipe's bundle, both bundled as the stack bundles.
 *
 * About a minute on 2 idle cores, three at a load average of 5;
 * docs/benchmarks.md explains the figures.
 *
 * @example
 * npm run bench
 */
import { fileURLToPath } from 'node:url';
import { benchConsumerBundle } from './consumer-bundle.ts';
import { benchConsumerCpu } from './consumer-cpu.ts';
import { describeMachine, type LoadAverage, loadAverage } from './machine.ts';
import { benchPipelineThroughput } from './pipeline-throughput.ts';
import {
  printBundle,
  printConsumerCpu,
  printMachine,
  printSummary,
  printThroughput,
  summaryOf,
  writeResults,
} from './report.ts';

/**
 * Sizes that keep the whole run near a minute on 2 busy cores. Rounds last
 * from half a second (raw fauxqs) to several seconds (pipeline, consumer
 * CPU), long against timer and scheduling noise of a few milliseconds.
 */
const SETTINGS = {
  consumerCpu: { records: 600, rounds: 7, warmUpRecords: 200 },
  pipelineThroughput: { tasks: 1_000, rounds: 3, warmUpTasks: 200 },
  consumerBundle: { loads: 21 },
} as const;

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

/** A benchmark's result with the time it took and the load around it. */
interface Timed<T> {
  readonly result: T;
  readonly seconds: number;
  readonly loadBefore: LoadAverage;
  readonly loadAfter: LoadAverage;
}

async function timed<T>(name: string, run: () => Promise<T>) {
  console.log(`\nrunning ${name}...`);
  const loadBefore = loadAverage();
  const startedAt = Date.now();
  const result = await run();
  const seconds = (Date.now() - startedAt) / 1000;
  const timing: Timed<T> = {
    result,
    seconds,
    loadBefore,
    loadAfter: loadAverage(),
  };
  return timing;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const machine = describeMachine();
  const loadAtStart = loadAverage();
  printMachine(machine, Object.values(loadAtStart));

  const cpu = await timed('consumer CPU', () =>
    benchConsumerCpu(SETTINGS.consumerCpu),
  );
  printConsumerCpu(cpu.result);
  const throughput = await timed('local throughput', () =>
    benchPipelineThroughput(SETTINGS.pipelineThroughput),
  );
  printThroughput(throughput.result);
  const bundle = await timed('consumer bundle', () =>
    benchConsumerBundle(SETTINGS.consumerBundle),
  );
  printBundle(bundle.result);

  const summary = summaryOf({
    cpu: cpu.result,
    throughput: throughput.result,
    bundle: bundle.result,
  });
  printSummary(summary);
  await writeResults(RESULTS, {
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine,
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
    settings: SETTINGS,
    summary,
    consumerCpu: cpu,
    pipelineThroughput: throughput,
    consumerBundle: bundle,
  });
  console.log(`\nresults written to ${RESULTS}`);
}

await main();
