/**
 * The daily summary (R22): what the pipeline finished in a window, read
 * from the status outbox, as figures and as one line for people.
 */
import {
  type DynamoDBDocumentClient,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import type { TaskRecord } from '../outbox.ts';
import { OUTBOX_FINISHED_AT } from '../tables.ts';

/** A time window: `since` included, `until` excluded. */
export interface SummaryWindow {
  readonly since: Date;
  readonly until: Date;
}

/** Finished tasks of one task type. */
export interface TaskTypeFigures {
  readonly processed: number;
  readonly completed: number;
  readonly failed: number;
}

/** How many failed tasks ended with one error. */
export interface ErrorCount {
  /**
   * The code of the task's last failed execution; for a task that never
   * ran (an invalid one), its error message, or its reason without one.
   */
  readonly error: string;
  readonly count: number;
}

/** What the pipeline finished in a window. */
export interface DailySummary {
  /** The window, as ISO-8601 date-times. */
  readonly since: string;
  readonly until: string;
  /** Tasks that reached their final status in the window. */
  readonly processed: number;
  readonly completed: number;
  /** Completed tasks that needed more than one execution. */
  readonly completedAfterRetry: number;
  /** Failed tasks; each was dead-lettered. */
  readonly failed: number;
  /** 100 × failed / processed, to 2 decimals; 0 when nothing finished. */
  readonly failureRatePercent: number;
  /** Failed tasks by reason: INVALID, RETRIES_EXHAUSTED, always present. */
  readonly deadLetteredByReason: Readonly<Record<string, number>>;
  /** The same figures per task type; `(unknown)` when unreadable. */
  readonly byTaskType: Readonly<Record<string, TaskTypeFigures>>;
  /** The most frequent errors of failed tasks, most frequent first. */
  readonly topErrors: readonly ErrorCount[];
}

/** How many errors the summary lists. */
export const TOP_ERRORS = 5;

/** Task type of a task whose envelope could not be read. */
export const UNKNOWN_TASK_TYPE = '(unknown)';

/** Longest error message used as an error's name, in characters. */
const ERROR_NAME_LIMIT = 120;

const DAY_MS = 24 * 3600 * 1000;

/** The UTC calendar day before the one `now` falls in. */
export function previousUtcDay(now: Date): SummaryWindow {
  const until = new Date(now);
  until.setUTCHours(0, 0, 0, 0);
  return { since: new Date(until.getTime() - DAY_MS), until };
}

/**
 * The figures of the tasks that finished in the window; tasks still
 * running or finished outside it are left out.
 */
export function summarise(
  records: Iterable<TaskRecord>,
  window: SummaryWindow,
): DailySummary {
  const since = window.since.toISOString();
  const until = window.until.toISOString();
  const tally = createTally();
  for (const record of records) {
    const at = record.finishedAt;
    const inWindow = at !== undefined && at >= since && at < until;
    if (inWindow && record.status) addRecord(tally, record);
  }
  return summaryOf(tally, window);
}

export interface SummariseDayOptions extends SummaryWindow {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly outboxTable: string;
}

/**
 * Summarises the tasks whose `finishedAt` falls in the window.
 *
 * A Scan reads the whole outbox, 14 days of tasks under its TTL, to keep
 * one day: fine for a daily run up to a few hundred thousand tasks a day.
 * Past that, a global secondary index keyed by finish day (`YYYY-MM-DD`,
 * sorted by `finishedAt`) would let a Query read that day alone.
 */
export async function summariseDay(
  options: SummariseDayOptions,
): Promise<DailySummary> {
  const tally = createTally();
  const pages = paginateScan(
    { client: options.dynamodb },
    {
      TableName: options.outboxTable,
      FilterExpression:
        '#finishedAt >= :since AND #finishedAt < :until ' +
        'AND attribute_exists(#status)',
      ProjectionExpression:
        '#status, reason, taskType, attempts, #error, errors',
      ExpressionAttributeNames: {
        '#finishedAt': OUTBOX_FINISHED_AT,
        '#status': 'status',
        '#error': 'error',
      },
      ExpressionAttributeValues: {
        ':since': options.since.toISOString(),
        ':until': options.until.toISOString(),
      },
    },
  );
  // Counted page by page: memory stays flat however many tasks finished.
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      addRecord(tally, item as TaskRecord);
    }
  }
  return summaryOf(tally, options);
}

/**
 * The summary as one line, such as `tasklane daily summary 2026-12-02:
 * 14 processed, 10 completed (2 after retries), 4 failed (28.57 %); ...`.
 */
export function formatSummary(summary: DailySummary): string {
  const reasons = Object.entries(summary.deadLetteredByReason)
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
  const errors = summary.topErrors
    .map((e) => `${e.error} (${e.count})`)
    .join(', ');
  const types = Object.entries(summary.byTaskType)
    .map(([type, f]) => `${type} ${f.processed}/${f.completed}/${f.failed}`)
    .join(', ');
  return (
    `tasklane daily summary ${summaryDate(summary)}: ` +
    `${summary.processed} processed, ${summary.completed} completed ` +
    `(${summary.completedAfterRetry} after retries), ` +
    `${summary.failed} failed (${summary.failureRatePercent} %); ` +
    `dead-lettered: ${reasons}; top errors: ${errors || 'none'}; ` +
    `by task type (processed/completed/failed): ${types || 'none'}; ` +
    `window ${summary.since} to ${summary.until}`
  );
}

/** The day a summary is about: the UTC date its window starts on. */
export function summaryDate(summary: Pick<DailySummary, 'since'>): string {
  return summary.since.slice(0, 10);
}

interface Tally {
  completed: number;
  completedAfterRetry: number;
  failed: number;
  byReason: Map<string, number>;
  byType: Map<string, { completed: number; failed: number }>;
  errors: Map<string, number>;
}

function createTally(): Tally {
  return {
    completed: 0,
    completedAfterRetry: 0,
    failed: 0,
    byReason: new Map([
      ['INVALID', 0],
      ['RETRIES_EXHAUSTED', 0],
    ]),
    byType: new Map(),
    errors: new Map(),
  };
}

function addRecord(tally: Tally, record: TaskRecord): void {
  const type = record.taskType ?? UNKNOWN_TASK_TYPE;
  const figures = tally.byType.get(type) ?? { completed: 0, failed: 0 };
  tally.byType.set(type, figures);

  if (record.status === 'completed') {
    tally.completed += 1;
    figures.completed += 1;
    if ((record.attempts ?? 1) > 1) tally.completedAfterRetry += 1;
  } else if (record.status === 'failed') {
    tally.failed += 1;
    figures.failed += 1;
    increment(tally.byReason, record.reason ?? 'UNKNOWN');
    increment(tally.errors, errorName(record));
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function errorName(record: TaskRecord): string {
  const code = record.errors?.at(-1)?.code;
  if (code) return code;
  if (record.error) return record.error.slice(0, ERROR_NAME_LIMIT);
  return record.reason ?? 'UNKNOWN';
}

function summaryOf(tally: Tally, window: SummaryWindow): DailySummary {
  const processed = tally.completed + tally.failed;
  const byTaskType = [...tally.byType.entries()]
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([type, f]) => [type, { processed: f.completed + f.failed, ...f }]);
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    processed,
    completed: tally.completed,
    completedAfterRetry: tally.completedAfterRetry,
    failed: tally.failed,
    failureRatePercent: percent(tally.failed, processed),
    deadLetteredByReason: Object.fromEntries(tally.byReason),
    byTaskType: Object.fromEntries(byTaskType),
    topErrors: topErrors(tally.errors),
  };
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 100;
}

/** Most frequent first; ties by name, so the order never varies. */
function topErrors(errors: Map<string, number>): ErrorCount[] {
  return [...errors.entries()]
    .map(([error, count]) => ({ error, count }))
    .sort((a, b) => b.count - a.count || byCodePoint(a.error, b.error))
    .slice(0, TOP_ERRORS);
}

/** Plain code-point order: the same on every machine, unlike a locale's. */
function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
