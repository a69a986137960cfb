import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Command, InvalidArgumentError, Option } from 'commander';
import { builtInTasks } from '../../lambdas/tasks/index.ts';
import { parseDuration } from '../callbacks/config.ts';
import { localSigningKey } from '../callbacks/secrets.ts';
import {
  DEFAULT_CONTROL_PORT,
  startControlServer,
} from '../local/control-server.ts';
import { runDemo } from '../local/demo.ts';
import { startDemoReceiver } from '../local/demo-receiver.ts';
import { demoFlaky } from '../local/demo-tasks.ts';
import { startMetricsServer } from '../local/metrics-server.ts';
import { type LocalPipeline, startLocalPipeline } from '../local/runtime.ts';
import { DEFAULT_PREFIX } from '../queue-names.ts';
import { createRegistry } from '../registry.ts';
import type { TaskModule } from '../task-module.ts';

interface LocalOptions {
  port: number;
  dynamodbPort: number;
  metricsPort: number;
  metrics: boolean;
  controlPort: number;
  callbackInterval: number;
  prefix: string;
  demo: boolean;
  logLevel: LogLevel;
}

function duration(value: string): number {
  try {
    return parseDuration(value, '--callback-interval');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) {
    throw new InvalidArgumentError(
      `must be a port from 0 to 65535 (got ${value})`,
    );
  }
  return number;
}

/** `tasklane local`: the whole pipeline on embedded emulators. */
export function localCommand(version: string): Command {
  return new Command('local')
    .description(
      'run the whole pipeline on embedded emulators (SQS, SNS, S3, DynamoDB)',
    )
    .option('--port <port>', 'port of the SQS/SNS/S3 endpoint', port, 4566)
    .option(
      '--dynamodb-port <port>',
      'port of the DynamoDB endpoint',
      port,
      4567,
    )
    .option(
      '--metrics-port <port>',
      'port of the Prometheus /metrics endpoint',
      port,
      9464,
    )
    .option('--no-metrics', 'serve no /metrics endpoint')
    .option(
      '--control-port <port>',
      'port of the control server that tasklane scale and throttle use',
      port,
      DEFAULT_CONTROL_PORT,
    )
    .option(
      '--callback-interval <duration>',
      'least time between two callbacks to one target, such as 2s or 1m',
      duration,
      60_000,
    )
    .option('--prefix <prefix>', 'start of every resource name', DEFAULT_PREFIX)
    .option('--no-demo', 'serve only; send no demo workload')
    .addOption(
      new Option('--log-level <level>', "level of the consumers' JSON logs")
        .choices(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'])
        .default('WARN'),
    )
    .action(async (options: LocalOptions) => {
      try {
        await runLocal(options, version);
      } catch (error) {
        // A port in use is the usual cause: say so in one line, not a trace.
        console.error(`tasklane local: ${(error as Error).message}`);
        process.exit(1);
      }
    });
}

async function runLocal(options: LocalOptions, version: string) {
  // The demo adds its own task type; without it the pipeline has exactly
  // the task types, queues and tables the stack deploys.
  const modules = options.demo
    ? [...builtInTasks, demoFlaky as TaskModule]
    : builtInTasks;
  const signingKey = localSigningKey();
  const pipeline = await startLocalPipeline({
    registry: createRegistry(modules),
    prefix: options.prefix,
    ports: { messaging: options.port, dynamodb: options.dynamodbPort },
    logLevel: options.logLevel,
    callbackIntervalMs: options.callbackInterval,
    signingKey,
  });
  const metrics = options.metrics
    ? await startMetricsServer({ pipeline, port: options.metricsPort, version })
    : undefined;
  const control = await startControlServer({
    port: options.controlPort,
    taskTypes: pipeline.registry.taskTypes,
    maxConcurrency: Object.fromEntries(
      pipeline.registry
        .modules()
        .map((module) => [module.taskType, module.defaults.maxConcurrency]),
    ),
    onScale: (taskType, n) => pipeline.setMaxConcurrency(taskType, n),
  });
  const receiver = options.demo
    ? await startDemoReceiver(signingKey, console.log)
    : undefined;
  stopOnSignal(async () => {
    await control.stop();
    await metrics?.stop();
    await pipeline.stop();
    await receiver?.stop();
  });
  printBanner(pipeline, version, {
    metrics: metrics?.url,
    control: control.url,
  });
  if (receiver) {
    await runDemo(pipeline, console.log, receiver.url, control.url);
  }
}

function printBanner(
  pipeline: LocalPipeline,
  version: string,
  urls: { metrics: string | undefined; control: string },
) {
  console.log(`tasklane ${version}: local pipeline`);
  console.log(`  SQS, SNS and S3 endpoint  ${pipeline.endpoint}`);
  console.log(`  DynamoDB endpoint         ${pipeline.dynamodbEndpoint}`);
  if (urls.metrics) console.log(`  Prometheus metrics        ${urls.metrics}`);
  console.log(`  control server            ${urls.control}`);
  for (const queue of pipeline.resources.queues) {
    console.log(`  queue ${queue.name.padEnd(40)} ${queue.url}`);
  }
  console.log(
    `ready: send tasks to ${pipeline.endpoint} with the AWS SDK or CLI; ` +
      'Ctrl-C stops after the tasks in flight',
  );
}

function stopOnSignal(stopAll: () => Promise<void>) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing the tasks in flight, then stopping`);
    await stopAll();
    console.log('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
