import { z } from 'zod';

/** The envelope version this code writes and reads. */
export const SCHEMA_VERSION = 1;

/** Bounds of `timeoutMs`: 100 ms up to the 15-minute Lambda maximum. */
export const TIMEOUT_MS_MIN = 100;
export const TIMEOUT_MS_MAX = 900_000;

/**
 * A task type: lower-case words separated by dots, such as
 * `order.notification`. Dots become dashes in queue names, so the pattern
 * keeps every queue name within the 80 characters SQS allows.
 */
export const TaskTypeSchema = z
  .string()
  .max(48)
  .regex(
    /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/,
    'must be lower-case words separated by dots, such as order.notification',
  );

/**
 * A business id: 1-256 characters naming something of the business system.
 * It is opaque, but travels into keys, logs, notification subjects and
 * callbacks, so control characters (a line break could forge a log line)
 * and unpaired surrogates (not encodable as UTF-8) are refused.
 */
export const BusinessIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(
    /^[^\p{Cc}\p{Cs}]*$/u,
    'must not contain control characters or unpaired surrogates',
  );

export const PrioritySchema = z.enum(['high', 'normal']);
export type Priority = z.infer<typeof PrioritySchema>;
export const PRIORITIES: readonly Priority[] = PrioritySchema.options;

/** What the envelope schema accepts beyond the defaults. */
export interface EnvelopeSchemaOptions {
  /**
   * Accept `http:` callback URLs. Only local mode turns this on, since its
   * business system under test runs on the same machine.
   * @default false
   */
  readonly allowHttpCallbacks?: boolean;
}

function callbackUrlSchema(allowHttp: boolean) {
  const protocol = allowHttp ? /^https?$/ : /^https$/;
  const message = allowHttp ? 'must be an http(s) URL' : 'must be an https URL';
  return z.url({
    protocol,
    // Only for the URL's form: a check added later, such as its length,
    // would otherwise report this message too.
    error: (issue) => (issue.code === 'invalid_format' ? message : undefined),
  });
}

/**
 * Builds the zod schema of envelope v1, the JSON body of every task message.
 * Unknown top-level fields are rejected rather than dropped.
 */
export function envelopeSchema(options: EnvelopeSchemaOptions = {}) {
  return z.strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION).default(SCHEMA_VERSION),
    id: z.uuid(),
    taskType: TaskTypeSchema,
    businessId: BusinessIdSchema,
    priority: PrioritySchema.default('normal'),
    timeoutMs: z.int().min(TIMEOUT_MS_MIN).max(TIMEOUT_MS_MAX).optional(),
    createdAt: z.iso.datetime({ offset: true }),
    callbackUrl: callbackUrlSchema(options.allowHttpCallbacks ?? false)
      .max(2048)
      .optional(),
    payload: z.record(z.string(), z.unknown()),
  });
}

/** Envelope v1 with https-only callback URLs, as deployed on AWS. */
export const EnvelopeSchema = envelopeSchema();

/** A validated envelope, defaults applied. */
export type Envelope = z.output<typeof EnvelopeSchema>;

/** What a producer writes: defaulted fields may be left out. */
export type EnvelopeInput = z.input<typeof EnvelopeSchema>;

/** The JSON Schema of envelope v1, for producers not written in TypeScript. */
export function envelopeJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(EnvelopeSchema, { io: 'input' }),
    $id: 'https://tasklane.dev/schema/envelope-v1.json',
    title: 'tasklane task envelope v1',
  };
}
