/**
 * The metrics of the callback deliveries: the dispatcher function adds
 * them to Powertools Metrics (namespace Tasklane, dimension `service`),
 * local mode to its in-memory totals behind /metrics.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DispatchReport } from './dispatcher.ts';
import type { SweepReport } from './sweep.ts';

/** The CloudWatch names. */
export const CALLBACK_METRIC_NAMES = {
  /** Statuses a receiver accepted. */
  delivered: 'CallbackStatusesDelivered',
  /** 1 per attempt that failed or was refused, 0 per other dispatch. */
  deliveryFailed: 'CallbackDeliveryFailed',
  /** Statuses sent to the callback dead-letter queue. */
  deadLettered: 'CallbackStatusesDeadLettered',
  /** Wait of the oldest status a dispatch (or a sweep) saw, in ms. */
  oldestStatusAge: 'CallbackOldestStatusAge',
  /** Stranded targets a sweep scheduled. */
  targetsRescheduled: 'CallbackTargetsRescheduled',
} as const;

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Where metrics go; Powertools' Metrics and LocalMetrics fit. */
export interface MetricSink {
  addMetric(name: string, unit: Unit, value: number): unknown;
}

/** Adds the metrics of one dispatch. */
export function recordDispatch(sink: MetricSink, report: DispatchReport) {
  const names = CALLBACK_METRIC_NAMES;
  const failed = report.outcome === 'failed' || report.outcome === 'refused';
  sink.addMetric(names.delivered, MetricUnit.Count, report.delivered);
  sink.addMetric(names.deadLettered, MetricUnit.Count, report.deadLettered);
  sink.addMetric(names.deliveryFailed, MetricUnit.Count, failed ? 1 : 0);
  if (report.oldestAgeMs !== undefined) {
    const unit = MetricUnit.Milliseconds;
    sink.addMetric(names.oldestStatusAge, unit, report.oldestAgeMs);
  }
}

/** Adds the metrics of one sweep. */
export function recordSweep(sink: MetricSink, report: SweepReport) {
  const names = CALLBACK_METRIC_NAMES;
  const rescheduled = report.rescheduled.length;
  sink.addMetric(names.targetsRescheduled, MetricUnit.Count, rescheduled);
  if (report.oldestOverdueMs !== undefined) {
    const unit = MetricUnit.Milliseconds;
    sink.addMetric(names.oldestStatusAge, unit, report.oldestOverdueMs);
  }
}
