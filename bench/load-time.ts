import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BACKUP_BUCKET_ENV } from '../lambdas/tasks/data-backup.ts';
import {
  NOTIFICATION_TOPIC_ENV,
  ORDERS_TABLE_ENV,
} from '../lambdas/tasks/order-notification.ts';
import { CALLBACK_ENV } from '../lib/callbacks/env.ts';

const run = promisify(execFile);

/**
 * The environment a consumer function gets from the stack, with made-up
 * names: what lambdas/consumer/handler.ts reads at load (its callback
 * settings make it build the scheduler client then), the task modules'
 * resource names, and `--enable-source-maps`, which the stack sets and
 * which makes Node.js read the source map at load.
 */
export const HANDLER_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  TASKLANE_TASK_TYPE: 'order.notification',
  TASKLANE_IDEMPOTENCY_TABLE: 'bench-idempotency',
  TASKLANE_STATUS_OUTBOX_TABLE: 'bench-status-outbox',
  [ORDERS_TABLE_ENV]: 'bench-orders',
  [NOTIFICATION_TOPIC_ENV]: 'arn:aws:sns:us-east-1:000000000000:bench',
  [BACKUP_BUCKET_ENV]: 'bench-backup',
  [CALLBACK_ENV.targetsTable]: 'bench-callback-targets',
  [CALLBACK_ENV.scheduleGroup]: 'bench-callbacks',
  [CALLBACK_ENV.dispatcherArn]:
    'arn:aws:lambda:us-east-1:000000000000:function:bench-dispatcher',
  [CALLBACK_ENV.schedulerRoleArn]:
    'arn:aws:iam::000000000000:role/bench-scheduler',
  [CALLBACK_ENV.interval]: '60s',
  POWERTOOLS_SERVICE_NAME: 'tasklane',
  POWERTOOLS_METRICS_NAMESPACE: 'Tasklane',
  NODE_OPTIONS: '--enable-source-maps',
};

// Times the import alone, in the fresh process, from its first line.
const IMPORT_TIMER = [
  'const startedAt = process.hrtime.bigint();',
  'const module = await import(process.env.BENCH_MODULE_URL);',
  "if (typeof module.handler !== 'function') throw new Error('no handler');",
  'const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;',
  'process.stdout.write(String(ms));',
].join('\n');

/**
 * Milliseconds a fresh Node.js process takes to import the module and
 * evaluate it, as a cold start does, with the handler's environment; the
 * process start itself is not counted.
 */
export async function measureLoadMs(file: string): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_TIMER],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...HANDLER_ENV,
        BENCH_MODULE_URL: pathToFileURL(file).href,
      },
    },
  );
  const ms = Number(stdout);
  if (!Number.isFinite(ms)) throw new Error(`no load time: ${stdout}`);
  return ms;
}
