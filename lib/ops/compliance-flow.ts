/**
 * Compliance checks of producing and sending (R1-R3), the queue bound
 * (R4) and distributed consumption (R5).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeSchema } from '../envelope.ts';
import { DEFAULT_CAPACITY } from '../producer.ts';
import { runningMappings } from './compliance-running.ts';
import { getAttId, type LaneView } from './compliance-template.ts';
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
  when,
} from './compliance-verdicts.ts';

/** The most messages a queue may hold (R4). */
const CAPACITY_LIMIT = 10_000;
/** The fields R2 names. */
const R2_FIELDS = ['taskType', 'businessId', 'priority', 'timeoutMs'];

function r1({ view }: CheckInput): Finding {
  const types = view.lanes().map((lane) => lane.taskType);
  if (types.length === 0) return fail('no consumer function in the template');
  return info(
    `producers are business services; they send with the producer client ` +
      `(lib/producer.ts), EventBridge or HTTPS; task types deployed: ` +
      listed(types),
  );
}

function r2({ root }: CheckInput): Finding {
  const schema = envelopeSchema();
  const missing = R2_FIELDS.filter((f) => !(f in schema.shape));
  const sample = { id: crypto.randomUUID(), taskType: 'a.b', businessId: 'b' };
  const strict = !schema.safeParse({
    ...sample,
    createdAt: new Date().toISOString(),
    payload: {},
    unknownField: 1,
  }).success;
  const file = join(root, 'schema/envelope-v1.json');
  const closed =
    existsSync(file) &&
    JSON.parse(readFileSync(file, 'utf8')).additionalProperties === false;
  return passUnless(
    [
      ...missing.map((f) => `envelope lacks ${f}`),
      ...(strict ? [] : ['the envelope accepts unknown fields']),
      ...(closed ? [] : ['schema/envelope-v1.json missing or open']),
    ],
    `envelope v1 (zod, strict) has ${listed(R2_FIELDS)}; unknown fields ` +
      `rejected; JSON Schema schema/envelope-v1.json closed`,
  );
}

function r3({ view }: CheckInput): Finding {
  const queues = view.taskQueues().length;
  const rules = view
    .ofType('AWS::Events::Rule')
    .filter(([, p]) =>
      (p.Targets ?? []).some((t: { Arn?: unknown }) => getAttId(t.Arn)),
    ).length;
  const buses = view.ofType('AWS::Events::EventBus').length;
  const apis = view.ofType('AWS::ApiGateway::RestApi').length;
  if (queues === 0) return fail('no task queue in the template');
  return pass(
    `${queues} SQS task queues (SendMessage); ${buses} EventBridge bus with ` +
      `${rules} rules to queues; ${apis} HTTPS API (ingress)`,
  );
}

function r4({ view }: CheckInput): Finding {
  const ingress = view
    .ofType('AWS::Lambda::Function')
    .map(([, p]) => p.Environment?.Variables?.TASKLANE_QUEUE_CAPACITY)
    .filter((v) => v !== undefined)
    .map(Number);
  const over = [DEFAULT_CAPACITY, ...ingress].filter(
    (n) => !(n <= CAPACITY_LIMIT),
  );
  if (over.length > 0)
    return fail(`capacity above 10000: ${listed(over.map(String))}`);
  if (ingress.length === 0) {
    return fail(
      `producer client cap ${DEFAULT_CAPACITY}, but no ingress function ` +
        'with TASKLANE_QUEUE_CAPACITY in the template',
    );
  }
  return pass(
    `producer client refuses past ${DEFAULT_CAPACITY} messages ` +
      '(QueueFullError); ingress TASKLANE_QUEUE_CAPACITY=' +
      `${distinct(ingress)} ` +
      '(429); EventBridge publishing is not capped (SQS itself has no bound)',
  );
}

function r5({ view, running }: CheckInput): Finding {
  const lanes = view.lanes();
  const template = passUnless(
    lanes.flatMap(scalingProblems),
    `mappings ${lanes.map(describeScaling).join('; ')}`,
  );
  return combine(template, running && runningMappings(running));
}

function scalingProblems(lane: LaneView): string[] {
  const { max, pollers, sizes } = scalingOf(lane);
  return [
    ...when(
      !(max >= 2 && max <= 1000),
      `${lane.taskType} normal lane without maximum concurrency`,
    ),
    ...when(!pollers, `${lane.taskType} high lane without provisioned pollers`),
    ...when(
      sizes.some((s) => s > 10),
      `${lane.taskType} batch size over 10`,
    ),
  ];
}

function describeScaling(lane: LaneView): string {
  const { max, pollers, sizes } = scalingOf(lane);
  return (
    `${lane.taskType}: batch ${listed(sizes.map(String))}, max concurrency ` +
    `${max}, pollers ${pollers?.MinimumPollers}-${pollers?.MaximumPollers}`
  );
}

function scalingOf(lane: LaneView) {
  return {
    max: mappingOf(lane, 'normal')?.props.ScalingConfig?.MaximumConcurrency,
    pollers: mappingOf(lane, 'high')?.props.ProvisionedPollerConfig,
    sizes: lane.mappings.map((m) => Number(m.props.BatchSize ?? 10)),
  };
}

function mappingOf(lane: LaneView, priority: 'high' | 'normal') {
  return lane.mappings.find((m) => m.queue?.name.endsWith(`-${priority}`));
}

/** R1 to R5. */
export const FLOW_REQUIREMENTS: readonly Requirement[] = [
  { id: 'R1', title: 'business operations produce tasks', check: r1 },
  { id: 'R2', title: 'one message template', check: r2 },
  { id: 'R3', title: 'sent by queue or RPC', check: r3 },
  { id: 'R4', title: 'queue capacity <= 10,000', check: r4 },
  { id: 'R5', title: 'distributed consumption', check: r5 },
];
