/** Checks of the callback props, and durations as the functions read them. */
import { Annotations, Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { assertPrefix } from '../queue-names.ts';
import { checkNumber, InvalidConfigurationError, shown } from './settings.ts';

/** The props the construct was given, checked, defaults filled in. */
export interface CallbackSettings {
  readonly interval: Duration;
  readonly maxAge: Duration;
  readonly maxStatusWait: Duration;
  readonly allowedHosts: readonly string[];
}

/** The props a check reads. */
export interface CallbackTiming {
  readonly prefix: string;
  readonly interval?: Duration;
  readonly maxAge?: Duration;
  readonly maxStatusWait?: Duration;
  readonly allowedHosts?: readonly string[];
}

/** Stable id of the synth warning for a wait alarm that normal waits trip. */
export const WAIT_BELOW_INTERVAL_WARNING =
  'tasklane:callbacks:statusWaitBelowInterval';

// A host name, or `*.` and one: labels of letters, digits and inner dashes.
const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}$`, 'i');

/**
 * Checks the prefix, the durations and the hosts; warns at synth when the
 * wait alarm would fire while deliveries run on time.
 */
export function checkCallbackProps(
  scope: IConstruct,
  props: CallbackTiming,
): CallbackSettings {
  assertPrefix(props.prefix);
  const setting = (name: string) => `PipelineCallbacks prop ${name}`;
  const interval = props.interval ?? Duration.minutes(1);
  const maxAge = props.maxAge ?? Duration.hours(24);
  const maxStatusWait = props.maxStatusWait ?? Duration.minutes(5);
  const hours = (d: Duration) => d.toHours({ integral: false });
  const minutes = (d: Duration) => d.toMinutes({ integral: false });

  checkNumber(setting('interval'), interval.toMilliseconds() / 1000, {
    min: 1,
    max: 3600,
    unit: 'seconds',
    whole: false,
  });
  checkNumber(setting('maxAge'), hours(maxAge), {
    min: 1,
    max: 13 * 24,
    unit: 'hours',
    whole: false,
  });
  checkNumber(setting('maxStatusWait'), minutes(maxStatusWait), {
    min: 1,
    max: 24 * 60,
    unit: 'minutes',
    whole: false,
  });
  const allowedHosts = (props.allowedHosts ?? []).map((host) =>
    checkHost(setting('allowedHosts'), host),
  );

  warnOfShortWait(scope, interval, maxStatusWait);
  return { interval, maxAge, maxStatusWait, allowedHosts };
}

/** Warns when deliveries on time would trip the status-waiting alarm. */
function warnOfShortWait(
  scope: IConstruct,
  interval: Duration,
  maxStatusWait: Duration,
): void {
  // EventBridge Scheduler may run a schedule up to a minute late.
  const usualWaitMs = interval.toMilliseconds() + 60_000;
  if (maxStatusWait.toMilliseconds() > usualWaitMs) return;
  Annotations.of(scope).addWarningV2(
    WAIT_BELOW_INTERVAL_WARNING,
    `maxStatusWait (${durationText(maxStatusWait)}) is not above the ` +
      `interval (${durationText(interval)}) plus the minute the ` +
      'scheduler may be late: the status-waiting alarm would fire while ' +
      'deliveries run on time',
  );
}

function checkHost(setting: string, host: unknown): string {
  if (typeof host !== 'string' || !HOST_PATTERN.test(host)) {
    throw new InvalidConfigurationError(
      setting,
      `${setting} must hold host names such as hooks.example.com or ` +
        `*.example.com (got ${shown(host)})`,
    );
  }
  return host.toLowerCase();
}

/**
 * A duration as `parseDuration` reads it, in its largest whole unit:
 * `24h`, `90s`, `1500ms`.
 */
export function durationText(duration: Duration): string {
  const ms = duration.toMilliseconds();
  const units: [string, number][] = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
