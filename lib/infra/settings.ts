/**
 * Checks of a pipeline's settings, shared by the cdk context reader
 * (config.ts) and the `TaskPipeline` props. Every error names the setting,
 * the allowed range with its unit and the value given, so
 * `cdk synth -c queueCapacity=20000` says what to change.
 */
import { isIP } from 'node:net';
import type { Node } from 'constructs';
import { TasklaneError } from '../errors.ts';
import type { TaskRegistry } from '../registry.ts';
import { type AlarmThresholds, DEFAULT_THRESHOLDS } from './contracts.ts';

/** A setting is out of range or malformed; `setting` names it. */
export class InvalidConfigurationError extends TasklaneError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('INVALID_CONFIGURATION', message);
    this.setting = setting;
  }
}

/** How many provisioned event pollers serve a high lane. */
export interface ProvisionedPollers {
  /** Pollers kept ready at all times, 2-200. @default 2 */
  readonly minimum?: number;
  /**
   * Pollers the lane may scale out to, 2-2000, not below `minimum`.
   * @default 200
   */
  readonly maximum?: number;
}

/** The pollers Lambda keeps and allows when nothing is configured. */
export const DEFAULT_PROVISIONED_POLLERS = { minimum: 2, maximum: 200 };

/** The R4 cap on queued messages per queue. */
export const DEFAULT_QUEUE_CAPACITY = 10_000;

/** A numeric setting's range and unit, as error messages state them. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly whole: boolean;
}

/** Ranges: Lambda's for concurrency and pollers, the standard's for the rest. */
export const RANGES = {
  maxConcurrency: {
    min: 2,
    max: 1000,
    unit: 'concurrent executions',
    whole: true,
  },
  minimumPollers: { min: 2, max: 200, unit: 'event pollers', whole: true },
  maximumPollers: { min: 2, max: 2000, unit: 'event pollers', whole: true },
  queueDepth: { min: 1, max: 10_000, unit: 'messages', whole: true },
  latencyMs: { min: 1, max: 900_000, unit: 'milliseconds', whole: true },
  failureRatePercent: { min: 0.01, max: 100, unit: 'percent', whole: false },
  queueCapacity: { min: 1, max: 10_000, unit: 'messages', whole: true },
} as const satisfies Record<string, NumberRange>;

/** Shows a given value in an error message. */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}

/** Parses a number (numeric strings too, as `cdk -c` gives) within a range. */
export function checkNumber(
  setting: string,
  value: unknown,
  range: NumberRange,
): number {
  const parsed =
    typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const ok =
    typeof parsed === 'number' &&
    Number.isFinite(parsed) &&
    (!range.whole || Number.isInteger(parsed)) &&
    parsed >= range.min &&
    parsed <= range.max;
  if (!ok) {
    const kind = range.whole ? 'a whole number' : 'a number';
    throw new InvalidConfigurationError(
      setting,
      `${setting} must be ${kind} of ${range.unit} from ${range.min} ` +
        `to ${range.max} (got ${shown(value)})`,
    );
  }
  return parsed;
}

/** Checks a CIDR range such as 203.0.113.0/24 or 2001:db8::/32. */
export function checkCidr(setting: string, value: unknown): string {
  const [address = '', bits, ...rest] = String(value).split('/');
  const version = isIP(address);
  const maxBits = version === 6 ? 128 : 32;
  const valid =
    typeof value === 'string' &&
    version !== 0 &&
    rest.length === 0 &&
    bits !== undefined &&
    /^\d{1,3}$/.test(bits) &&
    Number(bits) <= maxBits;
  if (!valid) {
    throw new InvalidConfigurationError(
      setting,
      `${setting} must hold CIDR ranges such as 203.0.113.0/24 or ` +
        `2001:db8::/32 (got ${shown(value)})`,
    );
  }
  return value;
}

/** Checks a VPC endpoint id: `vpce-` and 8 or 17 hexadecimal digits. */
export function checkVpcEndpointId(setting: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    !/^vpce-([0-9a-f]{8}|[0-9a-f]{17})$/.test(value)
  ) {
    throw new InvalidConfigurationError(
      setting,
      `${setting} must hold VPC endpoint ids such as ` +
        `vpce-0123456789abcdef0 (got ${shown(value)})`,
    );
  }
  return value;
}

/** Checks an e-mail address for the alarm subscription. */
export function checkEmail(setting: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    throw new InvalidConfigurationError(
      setting,
      `${setting} must be an e-mail address such as ops@example.com ` +
        `(got ${shown(value)})`,
    );
  }
  return value;
}

/** Resolved pollers of one high lane, range-checked, minimum ≤ maximum. */
export function checkPollers(
  setting: string,
  pollers: ProvisionedPollers,
): Required<ProvisionedPollers> {
  const minimum = checkNumber(
    `${setting}.minimum`,
    pollers.minimum ?? DEFAULT_PROVISIONED_POLLERS.minimum,
    RANGES.minimumPollers,
  );
  const maximum = checkNumber(
    `${setting}.maximum`,
    pollers.maximum ?? Math.max(minimum, DEFAULT_PROVISIONED_POLLERS.maximum),
    RANGES.maximumPollers,
  );
  if (minimum > maximum) {
    throw new InvalidConfigurationError(
      setting,
      `${setting}.maximum must be a whole number of event pollers from ` +
        `${minimum} (the minimum) to ${RANGES.maximumPollers.max} ` +
        `(got ${maximum})`,
    );
  }
  return { minimum, maximum };
}

/** Alarm thresholds with defaults filled in, each range-checked. */
export function checkThresholds(
  setting: string,
  given: Partial<AlarmThresholds> | undefined,
  queueCapacity: number,
): AlarmThresholds {
  const merged = {
    queueDepth: given?.queueDepth ?? DEFAULT_THRESHOLDS.queueDepth,
    latencyMs: given?.latencyMs ?? DEFAULT_THRESHOLDS.latencyMs,
    failureRatePercent:
      given?.failureRatePercent ?? DEFAULT_THRESHOLDS.failureRatePercent,
  };
  const queueDepth = checkNumber(`${setting}.queueDepth`, merged.queueDepth, {
    ...RANGES.queueDepth,
    max: queueCapacity,
  });
  return {
    queueDepth,
    latencyMs: checkNumber(
      `${setting}.latencyMs`,
      merged.latencyMs,
      RANGES.latencyMs,
    ),
    failureRatePercent: checkNumber(
      `${setting}.failureRatePercent`,
      merged.failureRatePercent,
      RANGES.failureRatePercent,
    ),
  };
}

/** Throws unless every key of a per-task-type setting is a known task type. */
export function checkTaskTypes(
  setting: string,
  values: Readonly<Record<string, unknown>>,
  registry: TaskRegistry,
): void {
  for (const taskType of Object.keys(values)) {
    if (!registry.has(taskType)) {
      throw new InvalidConfigurationError(
        setting,
        `${setting} names task type ${JSON.stringify(taskType)}, which is ` +
          `not in the registry (known: ${registry.taskTypes.join(', ')})`,
      );
    }
  }
}

/** Reads a context value; JSON given as a string by `-c` is parsed. */
export function contextValue(node: Node, key: string): unknown {
  const value = node.tryGetContext(key);
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidConfigurationError(
      `context key ${key}`,
      `context key ${key} is not valid JSON (got ${shown(value)})`,
    );
  }
}
