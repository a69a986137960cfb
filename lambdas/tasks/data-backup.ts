import {
  CopyObjectCommand,
  HeadObjectCommand,
  NotFound,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { defineTask } from '../../lib/task-module.ts';
import { requireEnv } from './env.ts';

/** Bucket the copies go to. */
export const BACKUP_BUCKET_ENV = 'TASKLANE_BACKUP_BUCKET';

/**
 * Copies an S3 object into the backup bucket, under `<bucket>/<key>`. The
 * business id names the data set; the source object must exist.
 */
export const dataBackup = defineTask({
  taskType: 'data.backup',
  description: 'Copies an S3 object to the backup bucket',
  payloadSchema: z.strictObject({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    key: z.string().min(1).max(1024),
  }),
  defaults: { timeoutMs: 30_000, maxConcurrency: 5, batchSize: 5 },

  async findMissingBusinessId(_envelope, payload, services) {
    try {
      await services.clients.s3.send(
        new HeadObjectCommand({ Bucket: payload.bucket, Key: payload.key }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof NotFound || isNotFound(error)) {
        return `no object s3://${payload.bucket}/${payload.key}`;
      }
      throw error;
    }
  },

  async handle(run) {
    const source = `${run.payload.bucket}/${run.payload.key}`;
    await run.clients.s3.send(
      new CopyObjectCommand({
        Bucket: requireEnv(run, BACKUP_BUCKET_ENV),
        Key: source,
        CopySource: encodeURI(source),
      }),
      { abortSignal: run.signal },
    );
  },
});

function isNotFound(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    .$metadata?.httpStatusCode;
  return status === 404;
}
