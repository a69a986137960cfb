/**
 * A load test's result for people and files: the summary printed at the
 * end, and the JSON and HTML files written to the output directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './chart.ts';
import { describeTarget, latency } from './format.ts';
import type { LoadtestResult, Verdict } from './result.ts';

/** The files a run wrote. */
export interface WrittenFiles {
  readonly json: string;
  readonly html: string;
}

/**
 * Writes `loadtest-<timestamp>.json` and `.html` into `dir`, creating it;
 * the timestamp is the run's start in UTC, safe in file names.
 */
export async function writeResultFiles(
  dir: string,
  result: LoadtestResult,
): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const base = join(dir, `loadtest-${stamp}`);
  const files = { json: `${base}.json`, html: `${base}.html` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, renderHtml(result));
  return files;
}

/** The summary printed at the end of a run, one fact per line. */
export function formatSummary(result: LoadtestResult): string {
  const { counts, plan } = result;
  const busiest = result.queues[0];
  const lines = [
    `tasklane loadtest: ${plan.rate} tasks/s for ${plan.durationSeconds} s ` +
      `against ${describeTarget(result.target)}`,
    row(
      'sent',
      `${counts.sent} of ${counts.planned} in ${result.sendSeconds} s: ` +
        `${result.achievedRate} tasks/s (refused ${counts.refused}, ` +
        `rejected ${counts.rejected})`,
    ),
    row(
      'busiest queue',
      busiest ? `${busiest.queueName}: ${busiest.rate} msg/s` : 'none',
    ),
    row(
      'ended',
      `completed ${counts.completed} (first attempt ` +
        `${counts.completedFirstAttempt}, after retry ` +
        `${counts.completedAfterRetry}), dead-lettered ` +
        `${counts.deadLettered}, missing ${counts.missing}`,
    ),
    row(
      'throughput',
      `${result.throughput} completed/s, peak ${result.peakThroughput} in ` +
        `one second; drained ${result.drainSeconds ?? '-'} s after the ` +
        'last send',
    ),
    row('failure rate', `${percent(result.failureRate)} dead-lettered`),
    row('latency', `first attempt ${latency(result.latencyMs.firstAttempt)}`),
    row('', `all completed ${latency(result.latencyMs.completed)}`),
    row('machine', describeMachine(result.machine)),
    ...result.problems.map((problem) => row('problem', problem)),
    ...result.verdicts.map(formatVerdict),
    row('result', result.pass ? 'PASS' : 'FAIL'),
  ];
  return `${lines.join('\n')}\n`;
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(14)} ${text}`;
}

/** `R14 PASS 80 ms (p99) ≤ 500: note` */
export function formatVerdict(verdict: Verdict): string {
  const sign = verdict.id === 'R15' ? '≥' : '≤';
  const measured = verdict.measured ?? 'none';
  return row(
    verdict.id,
    `${verdict.pass ? 'PASS' : 'FAIL'} ${measured} ${verdict.unit} ` +
      `${sign} ${verdict.threshold}: ${verdict.note}`,
  );
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)} %`;
}

function describeMachine(machine: LoadtestResult['machine']): string {
  const load = (value: unknown) =>
    Array.isArray(value)
      ? value.map((n) => Number(n).toFixed(2)).join(' ')
      : '?';
  return (
    `${machine.cpus} CPUs, load average ${load(machine.loadStart)} at the ` +
    `start, ${load(machine.loadEnd)} at the end (1, 5, 15 min)`
  );
}
