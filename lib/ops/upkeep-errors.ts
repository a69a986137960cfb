/** Errors of the daily upkeep; each has a stable upper-snake `code`. */
import { preview, TasklaneError } from '../errors.ts';

/** Base of every error the daily upkeep raises. */
export class UpkeepError extends TasklaneError {}

/** A setting is missing or out of range. */
export class UpkeepConfigError extends UpkeepError {
  /** The environment variable or field at fault. */
  readonly setting: string;

  constructor(setting: string, problem: string, value: unknown) {
    super('UPKEEP_CONFIG', `${setting} ${problem} (got ${preview(value)})`);
    this.setting = setting;
  }
}

/**
 * The dead letters of a queue could not be archived. None of them was
 * deleted: they are visible again in their queue.
 */
export class ArchiveWriteError extends UpkeepError {
  readonly queue: string;
  readonly key: string;

  constructor(queue: string, key: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'ARCHIVE_WRITE_FAILED',
      `dead letters of ${queue} not archived to ${key}, none removed: ` +
        detail,
      { cause },
    );
    this.queue = queue;
    this.key = key;
  }
}

/** Some dead-letter queues could not be cleaned; the others were. */
export class UpkeepIncompleteError extends UpkeepError {
  /** The queues whose cleaning failed, with the reason. */
  readonly failures: readonly { queue: string; error: string }[];

  constructor(failures: readonly { queue: string; error: string }[]) {
    super(
      'UPKEEP_INCOMPLETE',
      `${failures.length} dead-letter queue(s) not cleaned: ` +
        failures.map((f) => `${f.queue}: ${f.error}`).join('; '),
    );
    this.failures = failures;
  }
}
