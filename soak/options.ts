/**
 * The soak's settings: what `npm run soak -- --tasks 2000` and the CI test
 * pass to `runSoak`, with their defaults and ranges.
 */
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { parseDuration } from '../lib/callbacks/config.ts';

/** How big and how rough one soak run is. */
export interface SoakOptions {
  /** Tasks to send, 1-1,000,000. @default 100_000 */
  readonly tasks: number;
  /**
   * Share of tasks whose first execution fails and whose retry succeeds,
   * 0-0.5. @default 0.05
   */
  readonly transient: number;
  /**
   * Share of tasks that fail every execution and end in the dead-letter
   * queue after 6, 0-0.5. @default 0.01
   */
  readonly poison: number;
  /**
   * Times the consumer process is killed with SIGKILL mid-batch and
   * started again, 0-20. @default 3
   */
  readonly restarts: number;
  /** Least time between two callbacks to one target, in ms. @default 1_000 */
  readonly callbackIntervalMs: number;
  /** Callback targets the tasks are spread over, 1-50. @default 4 */
  readonly targets: number;
  /**
   * Visibility timeout of the soak's queues in seconds, 2-300: how long
   * the messages of a killed batch stay away. Kept above the function
   * timeout, as on AWS, so that a returning message finds its killed
   * execution's idempotency record expired. @default 12
   */
  readonly visibilitySeconds: number;
  /** Function timeout the pollers enforce, in ms, 4,000-300,000. @default 10_000 */
  readonly functionTimeoutMs: number;
  /** Batches in flight per queue in the consumer process, 1-50. @default 4 */
  readonly concurrency: number;
  /** Work of one successful execution before its effect, in ms, 0-1,000. @default 2 */
  readonly workMs: number;
  /**
   * Time without any progress after which the soak stops waiting and
   * reports what it has, in ms. @default 90_000
   */
  readonly stallMs: number;
  /** Level of the consumers' logs (stderr). @default 'SILENT' */
  readonly logLevel: LogLevel;
}

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  tasks: 100_000,
  transient: 0.05,
  poison: 0.01,
  restarts: 3,
  callbackIntervalMs: 1_000,
  targets: 4,
  visibilitySeconds: 12,
  functionTimeoutMs: 10_000,
  concurrency: 4,
  workMs: 2,
  stallMs: 90_000,
  logLevel: 'SILENT',
};

/** A soak option out of its range. */
export class SoakOptionError extends Error {
  readonly code = 'INVALID_SOAK_OPTION';
}

type NumericOption = Exclude<keyof SoakOptions, 'logLevel'>;

/** Range of each numeric option, in the unit its name gives. */
const RANGES: Readonly<Record<NumericOption, readonly [number, number]>> = {
  tasks: [1, 1_000_000],
  transient: [0, 0.5],
  poison: [0, 0.5],
  restarts: [0, 20],
  callbackIntervalMs: [10, 3_600_000],
  targets: [1, 50],
  visibilitySeconds: [2, 300],
  functionTimeoutMs: [4_000, 300_000],
  concurrency: [1, 50],
  workMs: [0, 1_000],
  stallMs: [1_000, 3_600_000],
};

/** Shares may be fractions; every other option is a whole number. */
const FRACTIONS: ReadonlySet<string> = new Set(['transient', 'poison']);

/** Fills in the defaults and checks every range; throws SoakOptionError. */
export function resolveSoakOptions(given: Partial<SoakOptions>): SoakOptions {
  const options = { ...DEFAULT_SOAK_OPTIONS, ...given };
  for (const [field, [min, max]] of Object.entries(RANGES)) {
    const value = options[field as NumericOption];
    const whole = FRACTIONS.has(field) || Number.isInteger(value);
    if (whole && value >= min && value <= max) continue;
    const kind = FRACTIONS.has(field) ? 'a number' : 'a whole number';
    throw new SoakOptionError(
      `soak option ${field} must be ${kind} of ${min}-${max}, got ${value}`,
    );
  }
  if (options.transient + options.poison > 1) {
    throw new SoakOptionError('soak options transient + poison exceed 1');
  }
  if (options.visibilitySeconds * 1000 <= options.functionTimeoutMs) {
    throw new SoakOptionError(
      `soak option visibilitySeconds (${options.visibilitySeconds} s) must ` +
        `exceed functionTimeoutMs (${options.functionTimeoutMs} ms)`,
    );
  }
  return options;
}

/** How each command-line flag maps onto an option. */
const FLAGS: Readonly<Record<string, (text: string) => Partial<SoakOptions>>> =
  {
    '--tasks': (t) => ({ tasks: Number(t) }),
    '--transient': (t) => ({ transient: Number(t) }),
    '--poison': (t) => ({ poison: Number(t) }),
    '--restarts': (t) => ({ restarts: Number(t) }),
    '--callback-interval': (t) => ({
      callbackIntervalMs: parseDuration(t, 'callback-interval'),
    }),
    '--targets': (t) => ({ targets: Number(t) }),
    '--visibility': (t) => ({ visibilitySeconds: Number(t) }),
    '--function-timeout': (t) => ({
      functionTimeoutMs: parseDuration(t, 'function-timeout'),
    }),
    '--concurrency': (t) => ({ concurrency: Number(t) }),
    '--work': (t) => ({ workMs: parseDuration(t, 'work') }),
    '--stall': (t) => ({ stallMs: parseDuration(t, 'stall') }),
    '--log-level': (t) => ({ logLevel: t.toUpperCase() as LogLevel }),
  };

/**
 * Reads `--flag value` and `--flag=value` pairs.
 *
 * @example
 * parseSoakArgs(['--tasks', '10000', '--callback-interval=500ms']);
 */
export function parseSoakArgs(args: readonly string[]): SoakOptions {
  let given: Partial<SoakOptions> = {};
  for (let i = 0; i < args.length; i += 1) {
    const [flag = '', inline] = (args[i] ?? '').split(/=(.*)/s, 2);
    const read = FLAGS[flag];
    if (!read) {
      const known = Object.keys(FLAGS).join(', ');
      throw new SoakOptionError(`unknown option ${flag} (known: ${known})`);
    }
    const value = inline ?? args[++i];
    if (value === undefined) {
      throw new SoakOptionError(`option ${flag} needs a value`);
    }
    given = { ...given, ...readFlag(flag, read, value) };
  }
  return resolveSoakOptions(given);
}

/** One flag's option; a value it cannot read becomes a SoakOptionError. */
function readFlag(
  flag: string,
  read: (text: string) => Partial<SoakOptions>,
  value: string,
): Partial<SoakOptions> {
  try {
    return read(value);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SoakOptionError(`option ${flag}: ${detail}`);
  }
}

/** The usage line printed with an option error. */
export const SOAK_USAGE =
  'usage: npm run soak -- [--tasks 100000] [--transient 0.05] ' +
  '[--poison 0.01] [--restarts 3] [--callback-interval 1s] [--targets 4] ' +
  '[--visibility 12] [--function-timeout 10s] [--concurrency 4] ' +
  '[--work 2ms] [--stall 90s] [--log-level silent]';
