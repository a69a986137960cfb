import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidTaskError,
  type ReadTaskOptions,
  readTask,
  type ValidTask,
} from '../../lambdas/consumer/read-task.ts';
import { envelopeSchema } from '../../lib/envelope.ts';
import { fieldPath, ValidationError } from '../../lib/errors.ts';
import {
  badInputs,
  CALLBACK_URLS,
  json,
  surprisinglyValid,
  validFields,
} from '../fixtures/bad-input.ts';
import { testRegistry } from '../helpers/pipeline.ts';

const LOCAL = envelopeSchema({ allowHttpCallbacks: true });
const AWS = envelopeSchema();

/** An SQS record as Lambda hands it over, carrying `body`. */
function sqsRecord(body: string, taskType = 'demo.flaky'): SQSRecord {
  const queue = `test-${taskType.replaceAll('.', '-')}-normal`;
  return {
    messageId: randomUUID(),
    receiptHandle: 'receipt',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    awsRegion: 'us-east-1',
  };
}

/** Reads a body; resolves to the task or the InvalidTaskError it raised. */
function read(
  body: string,
  taskType = 'demo.flaky',
  schema: ReadTaskOptions['schema'] = LOCAL,
): ValidTask | InvalidTaskError {
  const options = { registry: testRegistry, taskType, schema };
  try {
    return readTask(sqsRecord(body, taskType), options);
  } catch (error) {
    if (error instanceof InvalidTaskError) return error;
    throw error;
  }
}

/** The fields an invalid task's error names. */
function fieldsNamed(error: InvalidTaskError): string[] {
  const cause = error.cause;
  return cause instanceof ValidationError
    ? cause.issues.map((issue) => issue.field)
    : [];
}

const REQUIRED = ['id', 'taskType', 'businessId', 'createdAt', 'payload'];
const KNOWN = [...REQUIRED, 'schemaVersion', 'priority', 'timeoutMs'];
const STRING_FIELDS = ['id', 'taskType', 'businessId', 'createdAt'];

/** Where a message must fail, or that it may pass: never anything else. */
function expectNamesFieldOrPasses(result: ValidTask | InvalidTaskError) {
  if (!(result instanceof InvalidTaskError)) return;
  if (result.code === 'INVALID_JSON') {
    expect(result.message).toMatch(/^body is not valid JSON: /);
  } else {
    expect(result.message).toMatch(/^field \S/);
  }
}

describe('the bad-input corpus through readTask', () => {
  const cases = badInputs();

  it('holds at least 60 malformed messages, each body once', () => {
    // Assess
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.body)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.filter((c) => c.errorCode !== 'BUSINESS_ID_NOT_FOUND'))(
    'rejects $kind: $name',
    (c) => {
      // Act
      const result = read(c.body, c.queue);

      // Assess
      expect(result).toBeInstanceOf(InvalidTaskError);
      expect((result as InvalidTaskError).code).toBe(c.errorCode);
      expect((result as InvalidTaskError).message).toMatch(c.lastError);
    },
  );

  it('passes the envelope of a business id that does not exist', () => {
    // Business ids are checked when the task runs, against its system.
    for (const c of cases.filter(
      (c) => c.errorCode === 'BUSINESS_ID_NOT_FOUND',
    )) {
      expect(read(c.body, c.queue), c.name).not.toBeInstanceOf(Error);
    }
  });

  it.each(surprisinglyValid())('accepts $name', (c) => {
    // Act
    const result = read(c.body, c.queue);

    // Assess
    expect(result, c.because).not.toBeInstanceOf(Error);
  });

  it('pollutes no prototype, whatever the keys', () => {
    // Act
    for (const c of cases) read(c.body, c.queue);

    // Assess
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each(CALLBACK_URLS)('decides on callback URL $url', (c) => {
    // Prepare
    const body = json({ ...validFields(), callbackUrl: c.url });

    // Act
    const local = read(body, 'demo.flaky', LOCAL);
    const aws = read(body, 'demo.flaky', AWS);

    // Assess
    expect(!(local instanceof Error), `local: ${c.note}`).toBe(c.local);
    expect(!(aws instanceof Error), `aws: ${c.note}`).toBe(c.aws);
    if (aws instanceof InvalidTaskError) {
      expect(aws.message).toMatch(/^field callbackUrl: must be an https URL/);
    }
  });
});

/** Any value JSON can write, including deep nests and odd keys. */
const anyJson = fc.jsonValue({ maxDepth: 6 });

/** A valid envelope of demo.flaky, order.notification or data.backup. */
const validEnvelope = fc
  .record(
    {
      taskType: fc.constantFrom(
        'demo.flaky',
        'order.notification',
        'data.backup',
      ),
      id: fc.uuid(),
      businessId: fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 120 })
        .filter((s) => s.length <= 256 && !/\p{Cc}/u.test(s)),
      priority: fc.constantFrom('high', 'normal'),
      timeoutMs: fc.integer({ min: 100, max: 900_000 }),
      createdAt: fc
        .date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString()),
      callbackUrl: fc.webUrl({ validSchemes: ['https'] }),
      schemaVersion: fc.constant(1),
    },
    { requiredKeys: ['taskType', 'id', 'businessId', 'createdAt'] },
  )
  .chain((fields) =>
    payloadOf(fields.taskType).map((payload) => ({ ...fields, payload })),
  );

function payloadOf(taskType: string): fc.Arbitrary<Record<string, unknown>> {
  if (taskType === 'data.backup') {
    return fc.record({
      bucket: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
      key: fc
        .string({ unit: 'binary', minLength: 1, maxLength: 1024 })
        .filter((key) => key.isWellFormed()),
    });
  }
  if (taskType === 'order.notification') {
    return fc.record({
      event: fc.constantFrom('created', 'paid', 'shipped', 'cancelled'),
      message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
    });
  }
  return fc.record(
    {
      failTimes: fc.integer({ min: 0, max: 10 }),
      workMs: fc.integer({ min: 0, max: 60_000 }),
    },
    { requiredKeys: [] },
  );
}

/** A demo.flaky envelope with one field changed. */
const mutated = fc.oneof(
  fc.constantFrom(...REQUIRED).map((field) => {
    const { [field]: _, ...rest } = validFields();
    return { body: json(rest), field };
  }),
  fc
    .tuple(fc.string({ unit: 'binary', minLength: 0, maxLength: 12 }), anyJson)
    .filter(([key]) => !KNOWN.includes(key) && key !== 'callbackUrl')
    .map(([key, value]) => ({
      body: json({ ...validFields(), [key]: value }),
      field: fieldPath('', [key]),
    })),
  fc
    .tuple(
      fc.constantFrom(...STRING_FIELDS, 'payload'),
      fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(anyJson),
      ),
    )
    .map(([field, value]) => ({
      body: json({ ...validFields(), [field]: value }),
      field,
    })),
);

describe('generated bad input through readTask', () => {
  it('any string body is a task or an InvalidTaskError, never a crash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (body) => {
        // Act
        const result = read(body);

        // Assess
        expectNamesFieldOrPasses(result);
      }),
      { numRuns: 500 },
    );
  });

  it('a valid envelope cut short anywhere is not JSON', () => {
    // Prepare
    const body = json({ ...validFields(), payload: { workMs: 10 } });

    fc.assert(
      fc.property(fc.nat({ max: body.length - 1 }), (length) => {
        // Act
        const result = read(body.slice(0, length));

        // Assess
        expect(result).toBeInstanceOf(InvalidTaskError);
        expect((result as InvalidTaskError).code).toBe('INVALID_JSON');
      }),
      { numRuns: 300 },
    );
  });

  it('any JSON value is refused naming a field', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        // Act
        const result = read(JSON.stringify(value));

        // Assess
        expect(result).toBeInstanceOf(InvalidTaskError);
        expectNamesFieldOrPasses(result);
      }),
      { numRuns: 500 },
    );
  });

  it('a mutated envelope is refused naming the field it broke', () => {
    fc.assert(
      fc.property(mutated, ({ body, field }) => {
        // Act
        const result = read(body);

        // Assess
        expect(result).toBeInstanceOf(InvalidTaskError);
        expect(fieldsNamed(result as InvalidTaskError)).toContain(field);
      }),
      { numRuns: 500 },
    );
  });

  it('random strings in any field pass or name that field', () => {
    // Prepare
    const fields = [...STRING_FIELDS, 'priority', 'callbackUrl'];

    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.string({ unit: 'binary', maxLength: 300 }),
        (field, text) => {
          // Act
          const result = read(json({ ...validFields(), [field]: text }));

          // Assess
          if (!(result instanceof InvalidTaskError)) return;
          expect(fieldsNamed(result)).toEqual([field]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('any payload of demo.flaky passes or names a payload field', () => {
    // Prepare: any keys, the prototype's names and the real ones among them.
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('__proto__', 'constructor', 'failTimes', 'workMs'),
    );

    fc.assert(
      fc.property(fc.dictionary(key, anyJson), (payload) => {
        // Act
        const result = read(json({ ...validFields(), payload }));

        // Assess
        if (!(result instanceof InvalidTaskError)) return;
        expect(result.code).toBe('INVALID_PAYLOAD');
        for (const field of fieldsNamed(result)) {
          expect(field).toMatch(/^payload\./);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any depth of nesting in any field is refused, never a crash', () => {
    // Prepare
    const fields = [...KNOWN, 'callbackUrl', 'extra'];

    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.integer({ min: 1, max: 200_000 }),
        (field, depth) => {
          // Act
          const body = json({ ...validFields(), [field]: '@' }).replace(
            '"@"',
            '['.repeat(depth) + ']'.repeat(depth),
          );
          const result = read(body);

          // Assess
          expect(result).toBeInstanceOf(InvalidTaskError);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a valid envelope always passes, locally and on AWS', () => {
    fc.assert(
      fc.property(validEnvelope, (envelope) => {
        // Act
        const body = json(envelope);
        const results = [LOCAL, AWS].map((schema) =>
          read(body, envelope.taskType, schema),
        );

        // Assess
        for (const result of results) {
          expect(result).not.toBeInstanceOf(Error);
          expect((result as ValidTask).envelope.id).toBe(envelope.id);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves Object.prototype untouched', () => {
    // Assess
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
