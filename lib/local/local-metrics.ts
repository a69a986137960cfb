import { Metrics } from '@aws-lambda-powertools/metrics';

/** Count, sum and largest value of one metric of one task type. */
export interface MetricTotal {
  count: number;
  sum: number;
  max: number;
}

/**
 * Powertools Metrics for local mode: the consumers add metrics exactly as
 * on AWS, but instead of printing CloudWatch's embedded format, which
 * nothing reads here, the values are totalled in memory per task type.
 */
export class LocalMetrics extends Metrics {
  readonly taskType: string;
  readonly totals = new Map<string, MetricTotal>();

  constructor(taskType: string) {
    super({
      namespace: 'Tasklane',
      serviceName: 'tasklane',
      defaultDimensions: { TaskType: taskType },
    });
    this.taskType = taskType;
  }

  override addMetric(name: string, _unit: unknown, value: number): this {
    const total = this.totals.get(name) ?? { count: 0, sum: 0, max: 0 };
    total.count += 1;
    total.sum += value;
    total.max = Math.max(total.max, value);
    this.totals.set(name, total);
    return this;
  }

  /** Nothing to flush: the totals are read in this process. */
  override publishStoredMetrics(): this {
    return this;
  }
}
