/**
 * Settings of the daily upkeep, shared by its Lambda entry, which reads them
 * from the environment, and the construct that sets that environment.
 */
import { UpkeepConfigError } from './upkeep-errors.ts';

/** Environment variables the stack sets on the upkeep function. */
export const UPKEEP_ENV = {
  /** Name of the status outbox table the summary reads. */
  statusOutboxTable: 'TASKLANE_STATUS_OUTBOX_TABLE',
  /** URLs of the task types' dead-letter queues, as a JSON array. */
  deadLetterQueueUrls: 'TASKLANE_DEAD_LETTER_QUEUE_URLS',
  /** ARN of the alarm topic the summary is published to. */
  alarmTopicArn: 'TASKLANE_ALARM_TOPIC_ARN',
  /** Bucket that receives archived dead letters. */
  archiveBucket: 'TASKLANE_ARCHIVE_BUCKET',
  /** Days an invalid task stays dead-lettered before it is archived. */
  maxInvalidAgeDays: 'TASKLANE_MAX_INVALID_AGE_DAYS',
} as const;

/** Days an invalid task stays in its dead-letter queue, by default. */
export const DEFAULT_MAX_INVALID_AGE_DAYS = 7;

/**
 * Longest age the upkeep accepts: dead-letter queues keep messages 14 days,
 * so an older limit would never archive anything.
 */
export const MAX_INVALID_AGE_DAYS = 14;

/**
 * Time limit of one upkeep run. The summary scans the outbox, about 1 MB
 * per request, and each dead-letter queue is read 10 messages at a time:
 * 10 minutes leave room for some 100,000 outbox items and 5,000 dead
 * letters per task type.
 */
export const UPKEEP_TIMEOUT_SECONDS = 600;

/** What one upkeep run works on. */
export interface UpkeepConfig {
  readonly statusOutboxTable: string;
  readonly deadLetterQueueUrls: readonly string[];
  readonly alarmTopicArn: string;
  readonly archiveBucket: string;
  /** 0-14; 0 archives every invalid dead letter, whatever its age. */
  readonly maxInvalidAgeDays: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks the settings; throws UpkeepConfigError naming the variable. */
export function readUpkeepConfig(env: Env): UpkeepConfig {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new UpkeepConfigError(name, 'is not set', value);
    return value;
  };
  const age = env[UPKEEP_ENV.maxInvalidAgeDays];
  return {
    statusOutboxTable: required(UPKEEP_ENV.statusOutboxTable),
    deadLetterQueueUrls: parseUrls(required(UPKEEP_ENV.deadLetterQueueUrls)),
    alarmTopicArn: required(UPKEEP_ENV.alarmTopicArn),
    archiveBucket: required(UPKEEP_ENV.archiveBucket),
    maxInvalidAgeDays: checkAge(
      age === undefined || age === '' ? DEFAULT_MAX_INVALID_AGE_DAYS : age,
    ),
  };
}

/** Throws unless `days` is a whole number of days from 0 to 14. */
export function checkAge(days: unknown): number {
  const value = typeof days === 'string' ? Number(days) : days;
  const whole = typeof value === 'number' && Number.isSafeInteger(value);
  if (!whole || value < 0 || value > MAX_INVALID_AGE_DAYS) {
    throw new UpkeepConfigError(
      UPKEEP_ENV.maxInvalidAgeDays,
      `must be a whole number of days from 0 to ${MAX_INVALID_AGE_DAYS}`,
      days,
    );
  }
  return value;
}

function parseUrls(text: string): string[] {
  const name = UPKEEP_ENV.deadLetterQueueUrls;
  let urls: unknown;
  try {
    urls = JSON.parse(text);
  } catch {
    throw new UpkeepConfigError(name, 'is not JSON', text);
  }
  const strings =
    Array.isArray(urls) && urls.every((url) => typeof url === 'string');
  if (!strings) {
    throw new UpkeepConfigError(name, 'must be a JSON array of URLs', text);
  }
  return urls as string[];
}
