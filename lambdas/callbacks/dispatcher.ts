/**
 * Lambda entry of the callback dispatcher. It is invoked with
 * `{ "target": "<callback URL>" }` when a delivery's slot comes (by a
 * one-time schedule, or by a consumer for a delivery due at once), and
 * with `{ "sweep": "pending-targets" }` every five minutes by a recurring
 * schedule; everything else is in the environment (see CALLBACK_ENV).
 *
 * Metrics (namespace Tasklane): see lib/callbacks/metrics.ts;
 * CallbackOldestStatusAge feeds the alarm on statuses waiting too long.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createAwsClients } from '../../lib/aws-clients.ts';
import type {
  Dispatcher,
  DispatchReport,
} from '../../lib/callbacks/dispatcher.ts';
import { dispatcherFromEnv } from '../../lib/callbacks/env.ts';
import { CallbackError } from '../../lib/callbacks/errors.ts';
import { recordDispatch, recordSweep } from '../../lib/callbacks/metrics.ts';
import type { DispatchEvent } from '../../lib/callbacks/scheduler.ts';
import type { SweepEvent, SweepReport } from '../../lib/callbacks/sweep.ts';

const logger = new Logger({ serviceName: 'tasklane-callbacks' });
const metrics = new Metrics({
  namespace: 'Tasklane',
  serviceName: 'tasklane-callbacks',
});
const clients = createAwsClients();
let dispatcher: Dispatcher | undefined;

export async function handler(
  event: DispatchEvent | SweepEvent,
  context: Context,
): Promise<DispatchReport | SweepReport> {
  const sweep = (event as SweepEvent)?.sweep === 'pending-targets';
  const target = (event as DispatchEvent)?.target;
  if (!sweep && (typeof target !== 'string' || target === '')) {
    throw new CallbackError(
      'INVALID_EVENT',
      `event has no target and is no sweep: ${JSON.stringify(event)?.slice(0, 200)}`,
    );
  }
  dispatcher ??= dispatcherFromEnv(
    process.env,
    clients,
    context.invokedFunctionArn,
    logger,
  );
  try {
    if (sweep) return await runSweep(dispatcher);
    const report = await dispatcher.dispatch(target);
    recordDispatch(metrics, report);
    logger.info('callback dispatch done', { ...report });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
}

async function runSweep(from: Dispatcher): Promise<SweepReport> {
  const report = await from.sweep();
  recordSweep(metrics, report);
  const log = report.rescheduled.length > 0 ? logger.warn : logger.info;
  log.call(logger, 'callback sweep done', { ...report });
  return report;
}
