/**
 * Compliance checks of processing (R6-R8) and acknowledgement (R9-R10).
 */
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import {
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  type RetryPolicy,
  retryDelaySeconds,
} from '../retry.ts';
import type { TaskModule } from '../task-module.ts';
import {
  runningMappings,
  runningRedrive,
  runningVisibility,
} from './compliance-running.ts';
import { getAttId } from './compliance-template.ts';
import {
  type CheckInput,
  combine,
  distinct,
  type Finding,
  listed,
  passUnless,
  type Requirement,
  when,
} from './compliance-verdicts.ts';

function r6({ view }: CheckInput): Finding {
  const queues = view.queues();
  const undead = view.taskQueues().filter((queue) => {
    const target = getAttId(queue.props.RedrivePolicy?.deadLetterTargetArn);
    return !queues.find((q) => q.id === target)?.name.endsWith('-dlq');
  });
  const types = view.lanes().map((lane) => lane.taskType);
  const unchecked = types.filter((t) => !builtInRegistry.has(t));
  const unguarded = types
    .filter((t) => builtInRegistry.has(t))
    .filter((t) => !hasValidation(builtInRegistry.get(t)));
  const note = unchecked.length
    ? `; code of ${listed(unchecked)} not checked (not built in)`
    : '';
  return passUnless(
    [
      ...undead.map((q) => `${q.name} has no dead-letter queue`),
      ...unguarded.map(
        (t) => `${t} lacks a payload schema or business-id check`,
      ),
    ],
    `${view.deadLetterQueues().length} dead-letter queues, one per task ` +
      'type; envelope strict; per task type a payload schema and a ' +
      'business-id check; invalid tasks dead-lettered at once (reason ' +
      `INVALID)${note}`,
  );
}

function hasValidation(module: TaskModule): boolean {
  return (
    typeof module.payloadSchema?.safeParse === 'function' &&
    typeof module.findMissingBusinessId === 'function'
  );
}

function r7({ view }: CheckInput): Finding {
  const lanes = view.lanes();
  const problems = lanes.flatMap((lane) => {
    const slug = lane.taskType.replaceAll('.', '-');
    const count = lane.mappings.length;
    return [
      ...when(
        lane.mappings.some((m) => !m.queue?.name.includes(`-${slug}-`)),
        `${lane.taskType}'s function serves other queues`,
      ),
      ...when(count !== 2, `${lane.taskType} has ${count} mappings, not 2`),
    ];
  });
  const types = new Set(lanes.map((l) => l.taskType));
  problems.push(
    ...when(types.size !== lanes.length, 'a task type has two functions'),
  );
  return passUnless(
    problems,
    `one function per task type (${listed([...types])}), each mapped to ` +
      'its own high and normal queue only',
  );
}

/** Retry delays of the consumer's policy: [lowest, highest] per retry. */
function retryRanges(policy: RetryPolicy): [number, number][] {
  return Array.from({ length: policy.maxRetries }, (_, i) => [
    retryDelaySeconds(i + 1, policy, () => 0),
    retryDelaySeconds(i + 1, policy, () => 1),
  ]);
}

function r8({ view, running }: CheckInput): Finding {
  const policy = DEFAULT_RETRY_POLICY;
  const attempts = maxAttempts(policy);
  const ranges = retryRanges(policy);
  const shrinking = ranges.some(
    ([low], i) => i > 0 && low < (ranges[i - 1]?.[1] ?? 0),
  );
  const receives = view
    .taskQueues()
    .map((q) => Number(q.props.RedrivePolicy?.maxReceiveCount));
  const delays = ranges.map(([low, high]) => `${low}-${high} s`).join(', ');
  const template = passUnless(
    [
      ...when(policy.maxRetries > 5, `maxRetries ${policy.maxRetries} > 5`),
      ...when(shrinking, 'a retry delay is shorter than the one before'),
      ...when(
        receives.some((n) => !(n > attempts)),
        `a redrive maxReceiveCount is not above ${attempts}`,
      ),
    ],
    `consumer retry policy maxRetries ${policy.maxRetries} (${attempts} ` +
      `executions), delays ${delays}; redrive safety net maxReceiveCount ` +
      `${distinct(receives)} > ${attempts}`,
  );
  return combine(template, running && runningRedrive(running, attempts));
}

function r9({ view, running }: CheckInput): Finding {
  const mappings = view.mappings();
  const without = mappings.filter(
    (m) => !m.props.FunctionResponseTypes?.includes('ReportBatchItemFailures'),
  );
  const template = passUnless(
    without.map(
      (m) => `${m.queue?.name ?? m.id} without ReportBatchItemFailures`,
    ),
    `all ${mappings.length} mappings report batch item failures ` +
      '(partial batch responses)',
  );
  return combine(template, running && runningMappings(running));
}

function r10({ view, running }: CheckInput): Finding {
  const queues = view.lanes().flatMap((lane) =>
    lane.mappings.map((m) => ({
      name: m.queue?.name ?? m.id,
      visibility: Number(m.queue?.props.VisibilityTimeout ?? 30),
      timeout: lane.timeoutSeconds,
    })),
  );
  const short = queues.filter((q) => q.visibility < 6 * q.timeout);
  const shown = (q: (typeof queues)[number], op: string) =>
    `${q.name} ${q.visibility} s ${op} 6 x ${q.timeout} s`;
  const template = passUnless(
    short.map((q) => `visibility ${shown(q, '<')}`),
    `visibility ${listed(queues.map((q) => shown(q, '>=')))}; the ` +
      'per-task time budget aborts work that runs over',
  );
  return combine(template, running && runningVisibility(running, view));
}

/** R6 to R10. */
export const PROCESSING_REQUIREMENTS: readonly Requirement[] = [
  { id: 'R6', title: 'every message validated', check: r6 },
  { id: 'R7', title: 'dispatched by task type', check: r7 },
  { id: 'R8', title: 'retried <= 5 times, growing', check: r8 },
  { id: 'R9', title: 'acknowledged on success', check: r9 },
  { id: 'R10', title: 'failures return to the queue', check: r10 },
];
