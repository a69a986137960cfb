/**
 * Lambda entry of the callback dispatcher. EventBridge Scheduler invokes
 * it with `{ "target": "<callback URL>" }` when a delivery's slot comes;
 * everything else is in the environment (see CALLBACK_ENV).
 *
 * Metrics (namespace Tasklane): CallbackStatusesDelivered,
 * CallbackDeliveryFailed (a failed or refused attempt),
 * CallbackStatusesDeadLettered, and CallbackOldestStatusAge, the wait of
 * the oldest status seen, for the alarm on statuses waiting too long.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createAwsClients } from '../../lib/aws-clients.ts';
import type {
  Dispatcher,
  DispatchReport,
} from '../../lib/callbacks/dispatcher.ts';
import { dispatcherFromEnv } from '../../lib/callbacks/env.ts';
import { CallbackError } from '../../lib/callbacks/errors.ts';
import type { DispatchEvent } from '../../lib/callbacks/scheduler.ts';

const logger = new Logger({ serviceName: 'tasklane-callbacks' });
const metrics = new Metrics({
  namespace: 'Tasklane',
  serviceName: 'tasklane-callbacks',
});
const clients = createAwsClients();
let dispatcher: Dispatcher | undefined;

export async function handler(
  event: DispatchEvent,
  context: Context,
): Promise<DispatchReport> {
  if (typeof event?.target !== 'string' || event.target === '') {
    throw new CallbackError('INVALID_EVENT', 'event has no target');
  }
  dispatcher ??= dispatcherFromEnv(
    process.env,
    clients,
    context.invokedFunctionArn,
    logger,
  );
  try {
    const report = await dispatcher.dispatch(event.target);
    record(report);
    logger.info('callback dispatch done', { ...report });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
}

function record(report: DispatchReport): void {
  const count = (name: string, value: number) =>
    metrics.addMetric(name, MetricUnit.Count, value);
  count('CallbackStatusesDelivered', report.delivered);
  count('CallbackStatusesDeadLettered', report.deadLettered);
  const failed = report.outcome === 'failed' || report.outcome === 'refused';
  count('CallbackDeliveryFailed', failed ? 1 : 0);
  if (report.oldestAgeMs !== undefined) {
    metrics.addMetric(
      'CallbackOldestStatusAge',
      MetricUnit.Milliseconds,
      report.oldestAgeMs,
    );
  }
}
