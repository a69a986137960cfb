/**
 * Compliance checks of monitoring and operations (R18-R22) and of
 * versioning (R23).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttId, type Props } from './compliance-template.ts';
import {
  type CheckInput,
  combine,
  distinct,
  type Finding,
  fail,
  info,
  listed,
  pass,
  passUnless,
  type Requirement,
} from './compliance-verdicts.ts';

/** The standard's alarm thresholds (R18-R20). */
const LIMITS = { depth: 8000, latencyMs: 1000, failurePercent: 2 } as const;

const ABOVE = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold'];

function alarms({ view }: CheckInput): Props[] {
  return view
    .ofType('AWS::CloudWatch::Alarm')
    .map(([, p]) => p)
    .filter((p) => ABOVE.includes(p.ComparisonOperator));
}

function dimension(metric: Props | undefined, name: string): unknown {
  return metric?.Dimensions?.find((d: Props) => d.Name === name)?.Value;
}

function r18(input: CheckInput): Finding {
  const queues = input.view.taskQueues();
  const queueOf = (alarm: Props) => getAttId(dimension(alarm, 'QueueName'));
  const depth = alarms(input).filter(
    (a) =>
      a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
      queues.some((q) => q.id === queueOf(a)),
  );
  const missing = queues.filter(
    (q) =>
      !depth.some((a) => queueOf(a) === q.id && a.Threshold <= LIMITS.depth),
  );
  return passUnless(
    missing.map((q) => `${q.name} has no depth alarm at <= ${LIMITS.depth}`),
    `every task queue has a depth alarm: threshold ` +
      `${thresholds(depth)} messages visible`,
  );
}

function r19(input: CheckInput): Finding {
  const latency = alarms(input).filter((a) => a.MetricName === 'TaskLatency');
  const missing = input.view
    .lanes()
    .filter(
      (lane) =>
        !latency.some(
          (a) =>
            dimension(a, 'TaskType') === lane.taskType &&
            a.Threshold <= LIMITS.latencyMs,
        ),
    );
  return passUnless(
    missing.map((l) => `${l.taskType} has no latency alarm at <= 1000 ms`),
    `TaskLatency ${distinct(latency.map(statisticOf))} alarms per task ` +
      `type, threshold ${thresholds(latency)} ms`,
  );
}

function statisticOf(alarm: Props): string {
  return alarm.ExtendedStatistic ?? alarm.Statistic;
}

function r20(input: CheckInput): Finding {
  const rate = alarms(input).filter((a) =>
    (a.Metrics ?? []).some(
      (m: Props) => m.MetricStat?.Metric?.MetricName === 'TaskFailed',
    ),
  );
  const typeOf = (a: Props) =>
    a.Metrics.map((m: Props) =>
      dimension(m.MetricStat?.Metric, 'TaskType'),
    ).find(Boolean);
  const missing = input.view
    .lanes()
    .filter(
      (lane) =>
        !rate.some(
          (a) =>
            typeOf(a) === lane.taskType && a.Threshold <= LIMITS.failurePercent,
        ),
    );
  return passUnless(
    missing.map((l) => `${l.taskType} has no failure-rate alarm at <= 2 %`),
    `failure-rate alarms (TaskFailed / all finished) per task type, ` +
      `threshold ${thresholds(rate)} %`,
  );
}

function thresholds(found: readonly Props[]): string {
  const values = [...new Set(found.map((a) => String(a.Threshold)))];
  return values.length ? listed(values) : 'none';
}

function r21({ view, root }: CheckInput): Finding {
  const dashboards = view.ofType('AWS::CloudWatch::Dashboard').length;
  const grafana = filesIn(root, 'ops/grafana', /\.json$/);
  const rules = filesIn(root, 'ops/prometheus', /\.ya?ml$/);
  return passUnless(
    [
      ...(dashboards ? [] : ['no CloudWatch dashboard in the template']),
      ...(grafana.length ? [] : ['no Grafana dashboard in ops/grafana/']),
      ...(rules.length ? [] : ['no Prometheus rules in ops/prometheus/']),
    ],
    `CloudWatch dashboard in the template; Grafana ${listed(grafana)}; ` +
      `Prometheus ${listed(rules)}; local /metrics`,
  );
}

function r22({ view, root, running }: CheckInput): Finding {
  const runbooks = filesIn(root, 'docs', /runbook.*\.md$/i);
  const upkeep = scheduledFunctions(view.template.Resources ?? {});
  const commands = ['scale', 'throttle', 'dlq', 'loadtest'].filter((c) =>
    existsSync(join(root, `lib/cli/${c}-command.ts`)),
  );
  const template = passUnless(
    [
      ...(runbooks.length ? [] : ['no runbook in docs/']),
      ...(upkeep.length ? [] : ['no daily upkeep schedule in the template']),
    ],
    `runbook ${listed(runbooks)}; daily upkeep ${listed(upkeep)}; ` +
      `commands ${listed(commands.map((c) => `tasklane ${c}`))}`,
  );
  const control = running?.control;
  const limit = control?.sendRateLimit ?? 'off';
  const live =
    control && info(`running control server: send-rate limit ${limit}`);
  return combine(template, live);
}

/** Functions that a rule or schedule runs once a day. */
function scheduledFunctions(
  resources: Record<string, { Type: string; Properties?: Props }>,
): string[] {
  return Object.values(resources)
    .filter((r) => /^AWS::(Events::Rule|Scheduler::Schedule)$/.test(r.Type))
    .filter((r) =>
      /rate\(1 day\)|rate\(24 hours\)|cron\(/.test(
        String(r.Properties?.ScheduleExpression),
      ),
    )
    .flatMap((r) => {
      const targets = r.Properties?.Targets ?? [r.Properties?.Target];
      return targets.map((t: Props) => getAttId(t?.Arn) ?? '').filter(Boolean);
    });
}

function r23({ root }: CheckInput): Finding {
  const { version } = JSON.parse(
    readFileSync(join(root, 'package.json'), 'utf8'),
  );
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version ?? '')) {
    return fail(`package.json version ${version} is not semver`);
  }
  const changelog = join(root, 'CHANGELOG.md');
  const text = existsSync(changelog) ? readFileSync(changelog, 'utf8') : '';
  const heading = text
    .split('\n')
    .find((l) => /^##\s/.test(l) && l.includes(version));
  return heading
    ? pass(`package.json version ${version}; CHANGELOG.md "${heading.trim()}"`)
    : fail(`package.json version ${version} has no CHANGELOG.md entry`);
}

function filesIn(root: string, dir: string, pattern: RegExp): string[] {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((name) => pattern.test(name))
    .map((name) => `${dir}/${name}`);
}

/** R18 to R23. */
export const OPERATIONS_REQUIREMENTS: readonly Requirement[] = [
  { id: 'R18', title: 'alert: depth > 8,000', check: r18 },
  { id: 'R19', title: 'alert: latency > 1,000 ms', check: r19 },
  { id: 'R20', title: 'alert: failure rate > 2%', check: r20 },
  { id: 'R21', title: 'Prometheus + Grafana + CloudWatch', check: r21 },
  { id: 'R22', title: 'runbook and daily upkeep', check: r22 },
  { id: 'R23', title: 'versioned releases', check: r23 },
];
