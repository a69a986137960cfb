import { Counter, type Registry } from 'prom-client';
import { CALLBACK_METRIC_NAMES } from '../callbacks/metrics.ts';
import type { LocalMetrics } from './local-metrics.ts';
import { registerBucketHistogram } from './prometheus-histogram.ts';

/**
 * The Prometheus names of the callback dispatcher's metrics, after their
 * CloudWatch names (namespace Tasklane, dimension `service`).
 *
 * | CloudWatch | Prometheus |
 * | --- | --- |
 * | CallbackStatusesDelivered (Sum) | tasklane_callback_statuses_delivered_total |
 * | CallbackDeliveryFailed (Sum) | tasklane_callback_delivery_failed_total |
 * | CallbackStatusesDeadLettered (Sum) | tasklane_callback_statuses_dead_lettered_total |
 * | CallbackOldestStatusAge (Maximum) | tasklane_callback_oldest_status_age_milliseconds (histogram) |
 */
export const CALLBACK_PROMETHEUS = {
  delivered: 'tasklane_callback_statuses_delivered_total',
  deliveryFailed: 'tasklane_callback_delivery_failed_total',
  deadLettered: 'tasklane_callback_statuses_dead_lettered_total',
  oldestStatusAge: 'tasklane_callback_oldest_status_age_milliseconds',
} as const;

type CounterKey = 'delivered' | 'deliveryFailed' | 'deadLettered';

const HELP: Record<CounterKey, string> = {
  delivered: 'Statuses a callback target accepted',
  deliveryFailed: 'Callback requests that failed or were refused',
  deadLettered: 'Statuses sent to the callback dead-letter queue',
};

/**
 * Registers the callback metrics, read from the dispatcher's totals at
 * each scrape; every series exists from the start, at 0.
 */
export function registerCallbackMetrics(
  registry: Registry,
  metrics: Pick<LocalMetrics, 'totals' | 'histograms'>,
): void {
  for (const key of Object.keys(HELP) as CounterKey[]) {
    const cloudWatchName = CALLBACK_METRIC_NAMES[key];
    new Counter({
      name: CALLBACK_PROMETHEUS[key],
      help: `${HELP[key]} (CloudWatch: Tasklane ${cloudWatchName})`,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(metrics.totals.get(cloudWatchName)?.sum ?? 0);
      },
    });
  }
  const age = CALLBACK_METRIC_NAMES.oldestStatusAge;
  registerBucketHistogram(registry, {
    name: CALLBACK_PROMETHEUS.oldestStatusAge,
    help:
      'Milliseconds the oldest status of each callback dispatch had ' +
      `waited since its task finished (CloudWatch: Tasklane ${age})`,
    read: () => {
      const histogram = metrics.histograms.get(age);
      if (!histogram) return [];
      const sum = metrics.totals.get(age)?.sum ?? 0;
      return [{ labels: {}, histogram, sum }];
    },
  });
}
