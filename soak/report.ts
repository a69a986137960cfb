/** The soak's report as a person reads it: counts, timings, checks. */
import type { SoakReport } from './soak.ts';

const number = new Intl.NumberFormat('en-US');
const n = (value: number) => number.format(value);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as lines of text. */
export function formatReport(report: SoakReport): string[] {
  return [
    ...settingLines(report),
    ...countLines(report),
    ...timingLines(report),
    '',
    ...report.checks.map(
      (c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`,
    ),
    '',
    report.passed ? 'soak passed' : 'soak FAILED',
  ];
}

function settingLines({ options: o }: SoakReport): string[] {
  return [
    '',
    `soak of ${n(o.tasks)} tasks: ${o.transient * 100} % transient, ` +
      `${o.poison * 100} % poison, ${o.restarts} SIGKILL restarts, ` +
      `${o.targets} callback targets every ${o.callbackIntervalMs} ms, ` +
      `visibility ${o.visibilitySeconds} s, function timeout ` +
      `${o.functionTimeoutMs} ms, ${o.concurrency} batches per queue`,
  ];
}

function countLines(report: SoakReport): string[] {
  const c = report.counts;
  const kills = report.kills
    .map((k) => `#${k.generation} with ${k.inFlight} in flight`)
    .join(', ');
  return [
    `  sent           ${n(c.sent)} (plain ${n(c.byKind.plain)}, transient ` +
      `${n(c.byKind.transient)}, poison ${n(c.byKind.poison)}); ` +
      `${n(report.queueFullWaits)} waits on a full queue`,
    `  completed      ${n(c.completed)}, ${n(c.transientRetried)} of them ` +
      'after a retry',
    `  dead-lettered  ${n(c.deadLettered)} (${n(c.poisonExhausted)} ` +
      `exhausted after 6; ${n(c.deadLetterRepeats)} repeated messages, ` +
      `${n(c.redrivenBySqs)} redriven by SQS); ${n(c.notFinal)} not final`,
    `  effects        ${n(c.effectsRecorded)} recorded; ` +
      `${n(c.effectRepeats)} repeats on ${n(c.tasksWithRepeats)} tasks ` +
      `(${n(c.repeatsAfterKill)} after a kill, ${n(c.repeatsAfterTimeout)} ` +
      `after a timeout); most executions of a task ${c.maxExecutions}`,
    `  executions     ${n(c.lostExecutions)} cut by kills; unplanned ` +
      `errors ${JSON.stringify(c.unplannedErrors)}; longest batch ` +
      `${n(c.longestBatchMs)} ms, ${n(c.overruns)} past the function timeout`,
    `  callbacks      ${n(c.callbacksReceived)} statuses in ` +
      `${n(c.callbackRequests)} requests, ${n(c.callbackDuplicates)} ` +
      `duplicates, shortest gap ${c.minGapMs} ms`,
    `  kills          ${kills || 'none'}`,
    `  dispatcher     ${report.dispatcherLog.length} warnings/errors` +
      (report.dispatcherLog[0] ? `, first: ${report.dispatcherLog[0]}` : ''),
  ];
}

function timingLines({ timings: t, counts: c }: SoakReport): string[] {
  const rate = c.sent / Math.max(0.001, t.allFinalMs / 1000);
  return [
    `  timings        setup ${seconds(t.setupMs)}, sending ` +
      `${seconds(t.sendMs)}, all final ${seconds(t.allFinalMs)} ` +
      `(${n(Math.round(rate))} tasks/s), read-back ` +
      `${seconds(t.collectMs)}, total ${seconds(t.totalMs)}`,
  ];
}
