import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EnvelopeSchema,
  envelopeJsonSchema,
  envelopeSchema,
} from '../../lib/envelope.ts';
import { fieldIssues, ValidationError } from '../../lib/errors.ts';

const valid = () => ({
  id: randomUUID(),
  taskType: 'order.notification',
  businessId: 'order-1',
  createdAt: '2026-12-03T10:00:00.000Z',
  payload: { event: 'created', message: 'hello' },
});

const errorOf = (input: unknown, schema = EnvelopeSchema) => {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the envelope to be rejected');
  return new ValidationError(
    'INVALID_ENVELOPE',
    fieldIssues(result.error, input),
  );
};

describe('envelope v1', () => {
  it('applies the defaults: schema version 1 and normal priority', () => {
    // Act
    const envelope = EnvelopeSchema.parse(valid());

    // Assess
    expect(envelope.schemaVersion).toBe(1);
    expect(envelope.priority).toBe('normal');
    expect(envelope.timeoutMs).toBeUndefined();
  });

  it('names the field and the value of each problem', () => {
    // Act
    const error = errorOf({ ...valid(), priority: 'urgent', timeoutMs: 5 });

    // Assess
    expect(error.message).toMatch(/field priority: .*\(got "urgent"\)/);
    expect(error.message).toMatch(/field timeoutMs: .*100.*\(got 5\)/);
  });

  it('rejects unknown top-level fields', () => {
    // Act
    const error = errorOf({ ...valid(), retries: 3 });

    // Assess
    expect(error.issues).toEqual([
      { field: 'retries', message: 'is not allowed' },
    ]);
  });

  it('reports each missing field', () => {
    // Act
    const error = errorOf({ payload: {} });

    // Assess
    const fields = error.issues.map((issue) => issue.field).sort();
    expect(fields).toEqual(['businessId', 'createdAt', 'id', 'taskType']);
  });

  it('accepts only https callback URLs unless http is allowed', () => {
    // Prepare
    const task = { ...valid(), callbackUrl: 'http://127.0.0.1:8080/hook' };

    // Act
    const strict = EnvelopeSchema.safeParse(task);
    const local = envelopeSchema({ allowHttpCallbacks: true }).safeParse(task);

    // Assess
    expect(strict.success).toBe(false);
    expect(local.success).toBe(true);
    expect(errorOf({ ...task, callbackUrl: 'ftp://x' }).message).toMatch(
      /field callbackUrl: must be an https URL/,
    );
  });

  it('rejects task types that cannot name a queue', () => {
    // Act
    const error = errorOf({ ...valid(), taskType: 'Order_Notification' });

    // Assess
    expect(error.message).toMatch(/field taskType: must be lower-case words/);
  });

  it('ships a JSON Schema that matches the zod schema', () => {
    // Prepare
    const shipped = JSON.parse(
      readFileSync(
        new URL('../../schema/envelope-v1.json', import.meta.url),
        'utf8',
      ),
    );

    // Act
    const generated = envelopeJsonSchema();

    // Assess
    expect(shipped).toEqual(generated);
    expect(generated.additionalProperties).toBe(false);
    expect(generated.required).toEqual(
      expect.arrayContaining([
        'id',
        'taskType',
        'businessId',
        'createdAt',
        'payload',
      ]),
    );
  });
});
