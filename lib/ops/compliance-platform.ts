/**
 * Compliance checks of the platform: callbacks (R11), architecture
 * (R12-R13), performance (R14-R15) and security (R16-R17).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../callbacks/config.ts';
import { CALLBACK_ENV } from '../callbacks/env.ts';
import {
  type CfnStatement,
  isTlsDeny,
  policyStatements,
} from './compliance-template.ts';
import {
  type CheckInput,
  distinct,
  type Finding,
  fail,
  info,
  listed,
  passUnless,
  type Requirement,
} from './compliance-verdicts.ts';

/** Resource types that run on one host or one zone unless told otherwise. */
const SINGLE_HOST_TYPES = [
  'AWS::EC2::Instance',
  'AWS::RDS::DBInstance',
  'AWS::ElastiCache::CacheCluster',
  'AWS::AmazonMQ::Broker',
  'AWS::MSK::Cluster',
];

function r11({ view, root }: CheckInput): Finding {
  const groups = view.ofType('AWS::Scheduler::ScheduleGroup');
  const dispatchers = view
    .ofType('AWS::Lambda::Function')
    .filter(([id, p]) => /callback|dispatch/i.test(`${id} ${p.Description}`));
  const code = existsSync(join(root, 'lib/callbacks/dispatcher.ts'))
    ? ' (the code exists in lib/callbacks/, not yet in the stack)'
    : '';
  const missing = [
    ...(groups.length ? [] : ['schedule group']),
    ...(dispatchers.length ? [] : ['callback dispatcher function']),
  ];
  if (missing.length > 0) {
    return fail(`${listed(missing)} not found in the template${code}`);
  }
  const intervals = dispatchers.map(([id, p]) => callbackInterval(id, p));
  const tooShort = intervals.filter((i) => !(i.ms >= 60_000));
  const sweeps = view
    .ofType('AWS::Scheduler::Schedule')
    .filter(([, p]) => String(p.Target?.Input ?? '').includes('"sweep"'))
    .map(([id, p]) => `${id} ${p.ScheduleExpression}`);
  const dispatching = intervals.map((i) => `${i.id} (interval ${i.text})`);
  return passUnless(
    tooShort.map(
      (i) =>
        `${i.id} may call a target every ${i.text}, more than once a minute`,
    ),
    `schedule group ${groups.map(([id]) => id).join(', ')}; dispatcher ` +
      `${dispatching.join(', ')}: signed HTTPS callbacks, at most one ` +
      'request per callback target per interval; ' +
      (sweeps.length > 0 ? `sweep ${sweeps.join(', ')}` : 'no sweep schedule'),
  );
}

/** The least time between two requests to a target a dispatcher keeps. */
function callbackInterval(id: string, props: Record<string, unknown>) {
  const env = (props.Environment as { Variables?: Record<string, unknown> })
    ?.Variables;
  const text = String(env?.[CALLBACK_ENV.interval] ?? 'unset');
  let ms = Number.NaN;
  try {
    ms = parseDuration(text);
  } catch {
    // An interval that cannot be read is reported as too short.
  }
  return { id, text, ms };
}

function r12({ view }: CheckInput): Finding {
  const types = Object.values(view.template.Resources ?? {})
    .map((r) => r.Type)
    .filter((t) => !t.startsWith('AWS::CDK::'));
  const single = [
    ...new Set(types.filter((t) => SINGLE_HOST_TYPES.includes(t))),
  ];
  const services = [...new Set(types.map((t) => t.split('::')[1] ?? t))].sort();
  const endpoints = view
    .ofType('AWS::ApiGateway::RestApi')
    .flatMap(([, p]) => p.EndpointConfiguration?.Types ?? ['EDGE']);
  return passUnless(
    single.map((t) => `${t} runs on a single host`),
    `managed multi-AZ regional services only: ${listed(services)}; API ` +
      `endpoint ${listed(endpoints)}; no host of its own`,
  );
}

function r13({ view }: CheckInput): Finding {
  const lanes = view.lanes();
  const roles = lanes.map((l) =>
    JSON.stringify(view.props(l.functionId)?.Role),
  );
  const problems = [
    ...(lanes.length ? [] : ['no consumer function']),
    ...(new Set(roles).size === roles.length ? [] : ['consumers share a role']),
  ];
  return passUnless(
    problems,
    `${lanes.length} consumer functions, one per task type, each with its ` +
      'own role, log group and mappings: deployable and scalable alone, ' +
      'Lambda runs them across zones',
  );
}

function r14({ view, root }: CheckInput): Finding {
  const windows = view
    .mappings()
    .map((m) => m.props.MaximumBatchingWindowInSeconds ?? 0);
  const memory = view.lanes().map((l) => view.props(l.functionId)?.MemorySize);
  const plan = capacityPlan(root, 'sizes it');
  return info(
    `not measurable from configuration; batching window ` +
      `${distinct(windows)} s, consumer memory ${distinct(memory)} MB, ` +
      `provisioned pollers on high lanes; ${plan}; the monthly load test ` +
      'measures it',
  );
}

function r15({ view, root }: CheckInput): Finding {
  const fifo = view.taskQueues().filter((q) => q.props.FifoQueue);
  const pollers = view
    .mappings()
    .map((m) => m.props.ProvisionedPollerConfig?.MaximumPollers)
    .filter(Boolean);
  const plan = capacityPlan(root, 'derives 10,000 tasks/s');
  if (fifo.length > 0)
    return fail(
      `FIFO task queues cap throughput: ${listed(fifo.map((q) => q.name))}`,
    );
  return info(
    `standard queues (no FIFO throughput cap); high lanes up to ` +
      `${Math.max(...pollers)} pollers; ${plan}; the monthly load test ` +
      'verifies it',
  );
}

/** `docs/capacity-plan.md <what>`, or that there is none. */
function capacityPlan(root: string, what: string): string {
  const path = 'docs/capacity-plan.md';
  return existsSync(join(root, path)) ? `${path} ${what}` : 'no capacity plan';
}

function r16({ view }: CheckInput): Finding {
  const queues = view.queues();
  const problems = queues.flatMap((q) => [
    ...(q.statements.some(isTlsDeny) ? [] : [`${q.name} has no TLS deny`]),
    ...(q.props.KmsMasterKeyId ? [] : [`${q.name} is not KMS-encrypted`]),
  ]);
  const policies = view
    .ofType('AWS::ApiGateway::RestApi')
    .map(([, p]) => String(p.SecurityPolicy ?? 'TLS_1_0'));
  const weak = policies.filter((p) => !/TLS_?1_2|TLS13/.test(p));
  problems.push(...weak.map((p) => `API security policy ${p}`));
  const topics = view.ofType('AWS::SNS::Topic');
  const plain = topics.filter(([, p]) => !p.KmsMasterKeyId).map(([id]) => id);
  problems.push(...plain.map((id) => `topic ${id} is not KMS-encrypted`));
  return passUnless(
    problems,
    `all ${queues.length} queues deny requests without TLS ` +
      `(aws:SecureTransport false) and use KMS; API ${listed(policies)}; ` +
      `${topics.length} topics KMS-encrypted`,
  );
}

function r17({ view }: CheckInput): Finding {
  const queues = view.queues();
  const open = queues.filter((q) => !q.statements.some(isAllowlistDeny));
  const apis = view.ofType('AWS::ApiGateway::RestApi');
  const unguarded = apis
    .filter(([, p]) => !policyStatements(p.Policy).some(isSourceIpDeny))
    .map(([id]) => id);
  if (open.length === queues.length && unguarded.length === apis.length) {
    return fail(
      'no sender allowlist: no queue has the allowlist deny and the API has ' +
        'no source-IP resource policy (synth with -c allowlistCidrs=... or ' +
        '-c allowlistVpcEndpoints=...)',
    );
  }
  const cidrs = allowlisted(queues.flatMap((q) => q.statements));
  return passUnless(
    [
      ...open.map((q) => `${q.name} has no allowlist deny`),
      ...unguarded.map((id) => `API ${id} has no source-IP deny`),
    ],
    `all ${queues.length} queues deny sqs:SendMessage outside ` +
      `${listed(cidrs)} (the pipeline's roles exempt); the API resource ` +
      'policy denies other source IPs; IAM least privilege (cdk-nag ' +
      'AwsSolutions at synth)',
  );
}

/** A Deny of sending unless from an allowlisted IP or VPC endpoint. */
function isAllowlistDeny(statement: CfnStatement): boolean {
  const actions = [statement.Action ?? []].flat();
  const sends = actions.some((a) => a === 'sqs:SendMessage' || a === 'sqs:*');
  const vpce = statement.Condition?.StringNotEquals?.['aws:SourceVpce'];
  return (
    sends &&
    (isSourceIpDeny(statement) || (statement.Effect === 'Deny' && !!vpce))
  );
}

function isSourceIpDeny(statement: CfnStatement): boolean {
  const ips = statement.Condition?.NotIpAddress?.['aws:SourceIp'];
  return statement.Effect === 'Deny' && ips !== undefined;
}

/** The allowlisted CIDRs and VPC endpoints the statements name. */
function allowlisted(statements: readonly CfnStatement[]): string[] {
  const found = statements
    .filter(isAllowlistDeny)
    .flatMap((s) => [
      s.Condition?.NotIpAddress?.['aws:SourceIp'] ?? [],
      s.Condition?.StringNotEquals?.['aws:SourceVpce'] ?? [],
    ]);
  return [...new Set(found.flat() as string[])];
}

/** R11 to R17. */
export const PLATFORM_REQUIREMENTS: readonly Requirement[] = [
  { id: 'R11', title: 'callbacks, <= 1 per minute', check: r11 },
  { id: 'R12', title: 'highly available, scales out', check: r12 },
  { id: 'R13', title: 'consumers deployed apart', check: r13 },
  { id: 'R14', title: 'latency <= 500 ms', check: r14 },
  { id: 'R15', title: '10,000 messages/s per queue', check: r15 },
  { id: 'R16', title: 'TLS 1.2+ in transit', check: r16 },
  { id: 'R17', title: 'allowlisted senders only', check: r17 },
];
