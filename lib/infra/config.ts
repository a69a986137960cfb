/**
 * The pipeline's configuration from cdk context (cdk.json or `-c key=value`),
 * validated and turned into `TaskPipeline` props. Keys:
 *
 * | key | value | default |
 * | --- | --- | --- |
 * | prefix | 1-20 lower-case letters, digits, dashes | `tasklane` |
 * | allowlistCidrs | CIDR ranges (list or comma-separated) | none |
 * | allowlistVpcEndpoints | vpce ids (list or comma-separated) | none |
 * | alarmEmail | e-mail address | no subscription |
 * | maxConcurrency | 2-1000, or `{ "<taskType>": n }` | task module's |
 * | provisionedPollers | minimum n, `{ minimum, maximum }`, or per task type | 2-200 |
 * | queueDepthThreshold | 1-queueCapacity messages | 8000 |
 * | latencyThresholdMs | 1-900000 ms | 1000 |
 * | failureRateThresholdPercent | 0.01-100 % | 2 |
 * | queueCapacity | 1-10000 messages | 10000 |
 *
 * @example
 * cdk synth -c allowlistCidrs=203.0.113.0/24 -c maxConcurrency=50
 * cdk synth -c 'provisionedPollers={"order.notification":{"minimum":20}}'
 */
import type { Node } from 'constructs';
import { assertPrefix, DEFAULT_PREFIX } from '../queue-names.ts';
import type { TaskRegistry } from '../registry.ts';
import {
  checkCidr,
  checkEmail,
  checkNumber,
  checkPollers,
  checkTaskTypes,
  checkVpcEndpointId,
  contextValue,
  DEFAULT_QUEUE_CAPACITY,
  InvalidConfigurationError,
  type ProvisionedPollers,
  RANGES,
  shown,
} from './settings.ts';
import type { TaskPipelineProps } from './task-pipeline.ts';

/** Reads and validates the context keys; throws InvalidConfigurationError. */
export function readPipelineConfig(
  node: Node,
  registry: TaskRegistry,
): TaskPipelineProps {
  const key = (name: string) => `context key ${name}`;
  const get = (name: string) => contextValue(node, name);

  const queueCapacity = optionalNumber(
    key('queueCapacity'),
    get('queueCapacity'),
    RANGES.queueCapacity,
  );
  const capacity = queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
  return {
    registry,
    prefix: readPrefix(get('prefix')),
    allowlist: {
      cidrs: list(get('allowlistCidrs')).map((value) =>
        checkCidr(key('allowlistCidrs'), value),
      ),
      vpcEndpointIds: list(get('allowlistVpcEndpoints')).map((value) =>
        checkVpcEndpointId(key('allowlistVpcEndpoints'), value),
      ),
    },
    alarmEmail: optional(get('alarmEmail'), (value) =>
      checkEmail(key('alarmEmail'), value),
    ),
    maxConcurrency: readMaxConcurrency(get('maxConcurrency'), registry),
    provisionedPollers: readPollers(get('provisionedPollers'), registry),
    thresholds: {
      queueDepth: optionalNumber(
        key('queueDepthThreshold'),
        get('queueDepthThreshold'),
        { ...RANGES.queueDepth, max: capacity },
      ),
      latencyMs: optionalNumber(
        key('latencyThresholdMs'),
        get('latencyThresholdMs'),
        RANGES.latencyMs,
      ),
      failureRatePercent: optionalNumber(
        key('failureRateThresholdPercent'),
        get('failureRateThresholdPercent'),
        RANGES.failureRatePercent,
      ),
    },
    queueCapacity,
  };
}

function readPrefix(value: unknown): string {
  if (value === undefined) return DEFAULT_PREFIX;
  try {
    assertPrefix(String(value));
  } catch (error) {
    const message = (error as Error).message;
    throw new InvalidConfigurationError(
      'context key prefix',
      `context key ${message.replace(/\(got .*\)$/, `(got ${shown(value)})`)}`,
    );
  }
  return String(value);
}

/** One value or a per-task-type map: concurrency of the normal lanes. */
function readMaxConcurrency(
  value: unknown,
  registry: TaskRegistry,
): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const setting = 'context key maxConcurrency';
  if (!isObject(value)) {
    const all = checkNumber(setting, value, RANGES.maxConcurrency);
    return Object.fromEntries(registry.taskTypes.map((t) => [t, all]));
  }
  checkTaskTypes(setting, value, registry);
  return Object.fromEntries(
    Object.entries(value).map(([taskType, n]) => [
      taskType,
      checkNumber(`${setting}.${taskType}`, n, RANGES.maxConcurrency),
    ]),
  );
}

/**
 * Pollers of the high lanes: a number (the minimum, for every task type),
 * `{ minimum, maximum }` for every task type, or a map by task type of
 * either form.
 */
function readPollers(
  value: unknown,
  registry: TaskRegistry,
): Record<string, ProvisionedPollers> | undefined {
  if (value === undefined) return undefined;
  const setting = 'context key provisionedPollers';
  const isPollers = (v: unknown) =>
    isObject(v) &&
    Object.keys(v).every((k) => ['minimum', 'maximum'].includes(k));
  if (!isObject(value) || isPollers(value)) {
    const all = pollersOf(setting, value);
    return Object.fromEntries(registry.taskTypes.map((t) => [t, all]));
  }
  checkTaskTypes(setting, value, registry);
  return Object.fromEntries(
    Object.entries(value).map(([taskType, v]) => [
      taskType,
      pollersOf(`${setting}.${taskType}`, v),
    ]),
  );
}

function pollersOf(setting: string, value: unknown): ProvisionedPollers {
  if (!isObject(value)) {
    return checkPollers(setting, {
      minimum: checkNumber(`${setting}.minimum`, value, RANGES.minimumPollers),
    });
  }
  const { minimum, maximum } = value as Record<string, unknown>;
  return checkPollers(setting, {
    minimum: optionalNumber(
      `${setting}.minimum`,
      minimum,
      RANGES.minimumPollers,
    ),
    maximum: optionalNumber(
      `${setting}.maximum`,
      maximum,
      RANGES.maximumPollers,
    ),
  });
}

function optionalNumber(
  setting: string,
  value: unknown,
  range: Parameters<typeof checkNumber>[2],
): number | undefined {
  return optional(value, (v) => checkNumber(setting, v, range));
}

function optional<T>(value: unknown, check: (value: unknown) => T) {
  return value === undefined || value === '' ? undefined : check(value);
}

/** A list given as an array, or as a comma-separated string by `-c`. */
function list(value: unknown): readonly unknown[] {
  if (value === undefined || value === '') return [];
  if (Array.isArray(value)) return value;
  return String(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
