/** Short renderings of a result's parts, shared by the summary and the page. */
import type { LoadtestResult } from './result.ts';
import type { LatencySummary } from './stats.ts';

/** `p50 12 ms  p95 40 ms  p99 80 ms  max 95 ms (n=3600)` */
export function latency(summary: LatencySummary): string {
  if (summary.count === 0) return 'no tasks';
  const ms = (value: number | null) => `${value ?? '-'} ms`;
  return (
    `p50 ${ms(summary.p50)}  p95 ${ms(summary.p95)}  ` +
    `p99 ${ms(summary.p99)}  max ${ms(summary.max)} (n=${summary.count})`
  );
}

/** `local http://127.0.0.1:4566 (prefix tasklane)` or the AWS region. */
export function describeTarget(target: LoadtestResult['target']): string {
  const where =
    target.mode === 'local'
      ? `local ${target.endpoint}`
      : `AWS ${target.region ?? '(default region)'} stack ${target.stack}`;
  return `${where} (prefix ${target.prefix})`;
}
