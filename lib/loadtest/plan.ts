/**
 * What a load test sends: its rate, duration, mix of task types and
 * priorities, and injected failures, checked before anything is sent.
 */
import { builtInTasks } from '../../lambdas/tasks/index.ts';
import { ValidationError } from '../errors.ts';
import { demoFlaky } from '../local/demo-tasks.ts';
import { createRegistry } from '../registry.ts';
import type { TaskModule } from '../task-module.ts';

/** The task type injected failures use: it fails a set number of times. */
export const FLAKY_TYPE = 'demo.flaky';

/**
 * Executions an injected failure fails. One recovers on its first retry;
 * ten outlast the 6 executions a task gets, so it ends in the dead-letter
 * queue.
 */
export const FAIL_TIMES = { transient: 1, poison: 10 } as const;

/** A planned task: a plain one of the mix, or an injected failure. */
export type TaskKind = 'plain' | 'transient' | 'poison';

/**
 * The task types a load test may send: the built-in ones and the demo's
 * `demo.flaky`, which only `tasklane local` (with its demo) serves.
 */
export const loadtestRegistry = createRegistry([
  ...builtInTasks,
  demoFlaky as TaskModule,
]);

/** One task type of the mix and its relative weight. */
export interface MixEntry {
  readonly taskType: string;
  /** Relative weight, more than 0; weights need not add up to 1. */
  readonly weight: number;
}

/** How the tasks of one task type look, for types other than demo.flaky. */
export interface TaskTemplate {
  /** An id the task type finds. @default - `loadtest-<n>` */
  readonly businessId?: string;
  /** The payload every task of the type carries. */
  readonly payload: Record<string, unknown>;
}

/** A load test to run. */
export interface LoadtestPlan {
  /** Target send rate in tasks per second, more than 0. */
  readonly rate: number;
  /** How long tasks are sent, in seconds, more than 0. */
  readonly durationSeconds: number;
  /** Task types of the plain tasks, weighted; injected failures are extra. */
  readonly mix: readonly MixEntry[];
  /** Share of tasks sent with high priority, 0-1. */
  readonly highShare: number;
  /** Share of tasks that fail once, then succeed on retry, 0-1. */
  readonly failShare: number;
  /** Share of tasks that fail every execution and dead-letter, 0-1. */
  readonly poisonShare: number;
  /** SendMessageBatch calls in flight at once, 1 or more. */
  readonly senders: number;
  /** Longest wait for final statuses after the last send, in seconds. */
  readonly waitSeconds: number;
  /**
   * Seconds of sending at the rate before the measured tasks, 0 or more.
   * Those tasks are not counted; the run waits (up to `waitSeconds`) until
   * they end, so the measured tasks meet a warm pipeline with empty queues
   * rather than one paying for its first seconds. @default 0
   */
  readonly warmupSeconds?: number;
  /** Tasks per task type; demo.flaky needs none. */
  readonly templates: Readonly<Record<string, TaskTemplate>>;
}

/** The mix when none is given: demo.flaky alone, as `tasklane local` has. */
export const DEFAULT_MIX: readonly MixEntry[] = [
  { taskType: FLAKY_TYPE, weight: 1 },
];

/**
 * Parses `type=weight,...`; a type without `=weight` weighs 1. Throws
 * ValidationError naming `--mix` for an unknown type or a bad weight.
 */
export function parseMix(text: string): MixEntry[] {
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(mixEntry);
  if (entries.length === 0) invalid('--mix', 'names no task type', text);
  const types = entries.map((entry) => entry.taskType);
  const repeated = types.find((type, i) => types.indexOf(type) !== i);
  if (repeated) invalid('--mix', 'names a task type twice', repeated);
  return entries;
}

function mixEntry(part: string): MixEntry {
  const [taskType = '', weightText = '1', ...rest] = part.split('=');
  const weight = Number(weightText);
  if (rest.length > 0 || !(weight > 0) || !Number.isFinite(weight)) {
    invalid('--mix', 'must be type=weight with a weight above 0', part);
  }
  if (!loadtestRegistry.has(taskType)) {
    const known = loadtestRegistry.taskTypes.join(', ');
    invalid('--mix', `names an unknown task type (known: ${known})`, taskType);
  }
  return { taskType, weight };
}

/**
 * Checks a plan as a whole; throws ValidationError naming the option, its
 * range and the value given.
 */
export function assertPlan(plan: LoadtestPlan): void {
  positive('--rate', plan.rate, 'tasks/s');
  positive('--duration', plan.durationSeconds, 's');
  positive('--wait', plan.waitSeconds, 's');
  const warmup = plan.warmupSeconds ?? 0;
  if (!(warmup >= 0) || !Number.isFinite(warmup)) {
    invalid('--warmup', 'must be 0 s or more', warmup);
  }
  for (const [field, value] of [
    ['--high-share', plan.highShare],
    ['--fail-share', plan.failShare],
    ['--poison-share', plan.poisonShare],
  ] as const) {
    if (!(value >= 0 && value <= 1)) invalid(field, 'must be 0 to 1', value);
  }
  const injected = plan.failShare + plan.poisonShare;
  if (injected > 1) {
    invalid('--fail-share + --poison-share', 'must be 1 at most', injected);
  }
  if (!Number.isSafeInteger(plan.senders) || plan.senders < 1) {
    invalid('--senders', 'must be a whole number of 1 or more', plan.senders);
  }
  assertTemplates(plan);
}

/** Every plain task type but demo.flaky needs a template to be sent. */
function assertTemplates(plan: LoadtestPlan): void {
  for (const { taskType } of plan.mix) {
    if (taskType === FLAKY_TYPE || plan.templates[taskType]) continue;
    invalid(
      '--templates',
      `must give a businessId and payload for ${taskType}`,
      Object.keys(plan.templates),
    );
  }
}

function positive(field: string, value: number, unit: string): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    invalid(field, `must be more than 0 ${unit}`, value);
  }
}

function invalid(field: string, message: string, value: unknown): never {
  throw new ValidationError('INVALID_LOADTEST', [{ field, message, value }]);
}
