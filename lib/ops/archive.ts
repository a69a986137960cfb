import { appendFile } from 'node:fs/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DeadLetterRecord } from './dead-letters.ts';
import {
  type DeadLetterQueue,
  deleteDeadLetters,
  type StepResult,
} from './dlq-queue.ts';
import {
  type FailureSummary,
  type SweepOptions,
  summarizeFailures,
  sweepDeadLetters,
} from './dlq-sweep.ts';

/** Where archived dead letters go: a JSON Lines file or an S3 prefix. */
export type ArchiveTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/** Writes dead letters somewhere they outlive the queue. */
export interface ArchiveSink {
  /** Where the lines go, for people. */
  readonly location: string;
  /** Resolves once the letters are stored durably; throws if they are not. */
  write(letters: readonly DeadLetterRecord[]): Promise<void>;
}

/** Reads `s3://bucket/prefix` or a file path; throws on an S3 URL without bucket. */
export function parseArchiveTarget(spec: string): ArchiveTarget {
  if (!spec.startsWith('s3://')) return { kind: 'file', path: spec };
  const [bucket = '', ...rest] = spec.slice('s3://'.length).split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(
      `archive must be a file or s3://bucket/prefix with a valid bucket ` +
        `name (got ${spec})`,
    );
  }
  return { kind: 's3', bucket, prefix: rest.filter(Boolean).join('/') };
}

/**
 * One archived dead letter as a JSON line: the body and every attribute,
 * enough to send the message again as it was.
 */
export function archiveLine(
  queueName: string,
  letter: DeadLetterRecord,
  archivedAt: string,
): string {
  const { message } = letter;
  return JSON.stringify({
    archivedAt,
    queue: queueName,
    messageId: letter.messageId,
    taskId: letter.taskId,
    reason: letter.reason,
    body: letter.body,
    messageAttributes: message.MessageAttributes ?? {},
    attributes: message.Attributes ?? {},
  });
}

/**
 * Opens an archive for one queue's dead letters: lines appended to the
 * file, flushed to disk before `write` resolves; or, on S3, one object
 * per call under `<prefix>/<queue>/<time>-<n>.jsonl`.
 */
export function openArchive(
  target: ArchiveTarget,
  s3: S3Client,
  queueName: string,
  now: () => Date = () => new Date(),
): ArchiveSink {
  const lines = (letters: readonly DeadLetterRecord[]) => {
    const at = now().toISOString();
    return letters.map((l) => `${archiveLine(queueName, l, at)}\n`).join('');
  };
  if (target.kind === 'file') {
    return {
      location: target.path,
      write: (letters) =>
        appendFile(target.path, lines(letters), { flush: true }),
    };
  }
  const stamp = now().toISOString().replaceAll(':', '-');
  const base = [target.prefix, queueName].filter(Boolean).join('/');
  return s3Sink(s3, target.bucket, `${base}/${stamp}`, lines);
}

/** One object per write: `<key>-00001.jsonl`, `<key>-00002.jsonl`, ... */
function s3Sink(
  s3: S3Client,
  bucket: string,
  key: string,
  lines: (letters: readonly DeadLetterRecord[]) => string,
): ArchiveSink {
  let part = 0;
  return {
    location: `s3://${bucket}/${key}-*.jsonl`,
    async write(letters) {
      part += 1;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${key}-${String(part).padStart(5, '0')}.jsonl`,
          Body: lines(letters),
          ContentType: 'application/x-ndjson',
        }),
      );
    },
  };
}

/**
 * A sweep step that archives dead letters, then deletes exactly those it
 * archived, by receipt handle. An archive that fails stops the sweep
 * before anything is deleted.
 */
export function purgeStep(queue: DeadLetterQueue, sink: ArchiveSink) {
  return async (letters: readonly DeadLetterRecord[]): Promise<StepResult> => {
    await sink.write(letters);
    return deleteDeadLetters(queue, letters);
  };
}

/** What a purge did: every message seen was archived and deleted, or left. */
export interface PurgeReport {
  readonly queue: string;
  readonly archive: string;
  readonly seen: number;
  /** Written to the archive, deleted or not. */
  readonly archived: number;
  /** Archived and deleted. */
  readonly purged: number;
  /** Seen and still in the dead-letter queue. */
  readonly left: number;
  /** Archived, but SQS did not delete them. */
  readonly failures: readonly FailureSummary[];
}

/** Dead letters archived per write unless told otherwise. */
export const ARCHIVE_CHUNK = 100;

/**
 * Archives the dead letters `options` selects, then deletes exactly those
 * archived; a failed archive throws and leaves the rest in the queue.
 */
export async function purgeDeadLetters(
  queue: DeadLetterQueue & { readonly name: string },
  sink: ArchiveSink,
  options: Pick<SweepOptions, 'select' | 'limit' | 'onSeen'> = {},
): Promise<PurgeReport> {
  const result = await sweepDeadLetters(queue, {
    ...options,
    chunkSize: ARCHIVE_CHUNK,
    step: purgeStep(queue, sink),
  });
  return {
    queue: queue.name,
    archive: sink.location,
    seen: result.seen,
    // A chunk is archived whole before any of it is deleted.
    archived: result.removed + result.failures.length,
    purged: result.removed,
    left: result.seen - result.removed,
    failures: summarizeFailures(result.failures),
  };
}
