import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  archiveLine,
  parseArchive,
} from '../../lib/ops/upkeep-archive.ts';
import { readUpkeepConfig, UPKEEP_ENV } from '../../lib/ops/upkeep-config.ts';
import { isDueInvalid } from '../../lib/ops/upkeep-dead-letters.ts';
import { UpkeepConfigError } from '../../lib/ops/upkeep-errors.ts';
import { windowOf } from '../../lib/ops/upkeep-run.ts';

const ENV = {
  [UPKEEP_ENV.statusOutboxTable]: 'tl-status-outbox',
  [UPKEEP_ENV.deadLetterQueueUrls]: '["https://sqs/1/tl-a-dlq"]',
  [UPKEEP_ENV.alarmTopicArn]: 'arn:aws:sns:eu-west-1:1:tl-alarms',
  [UPKEEP_ENV.archiveBucket]: 'tl-archive',
  [UPKEEP_ENV.maxInvalidAgeDays]: '3',
};

describe('readUpkeepConfig', () => {
  it('reads every setting from the environment', () => {
    // Act
    const config = readUpkeepConfig(ENV);

    // Assess
    expect(config).toEqual({
      statusOutboxTable: 'tl-status-outbox',
      deadLetterQueueUrls: ['https://sqs/1/tl-a-dlq'],
      alarmTopicArn: 'arn:aws:sns:eu-west-1:1:tl-alarms',
      archiveBucket: 'tl-archive',
      maxInvalidAgeDays: 3,
    });
  });

  it('keeps invalid tasks 7 days when no age is set', () => {
    // Prepare
    const env = { ...ENV, [UPKEEP_ENV.maxInvalidAgeDays]: undefined };

    // Act / Assess
    expect(readUpkeepConfig(env).maxInvalidAgeDays).toBe(7);
  });

  it('throws naming a variable that is not set', () => {
    // Prepare
    const env = { ...ENV, [UPKEEP_ENV.archiveBucket]: '' };

    // Act / Assess
    expect(() => readUpkeepConfig(env)).toThrow(
      /TASKLANE_ARCHIVE_BUCKET is not set/,
    );
  });

  it.each([
    ['not JSON', '[nope', /is not JSON \(got "\[nope"\)/],
    ['not a list of URLs', '{"a":1}', /must be a JSON array of URLs/],
  ])('throws when the queue URLs are %s', (_, value, message) => {
    // Prepare
    const env = { ...ENV, [UPKEEP_ENV.deadLetterQueueUrls]: value };

    // Act / Assess
    expect(() => readUpkeepConfig(env)).toThrow(message);
  });

  it.each(['15', '-1', '1.5', 'seven'])('throws when the age is %s', (age) => {
    // Prepare
    const env = { ...ENV, [UPKEEP_ENV.maxInvalidAgeDays]: age };

    // Act / Assess
    expect(() => readUpkeepConfig(env)).toThrow(
      new RegExp(
        `TASKLANE_MAX_INVALID_AGE_DAYS must be a whole number of days ` +
          `from 0 to 14 \\(got "${age}"\\)`,
      ),
    );
  });
});

describe('windowOf', () => {
  const now = new Date('2026-12-03T06:00:00Z');

  it('takes the previous UTC day when none is asked', () => {
    // Act / Assess
    expect(windowOf({}, now)).toEqual({
      since: new Date('2026-12-02T00:00:00Z'),
      until: new Date('2026-12-03T00:00:00Z'),
    });
  });

  it('takes the window asked', () => {
    // Act
    const window = windowOf(
      { since: '2026-11-20T00:00:00Z', until: '2026-11-20T12:00:00Z' },
      now,
    );

    // Assess
    expect(window.since.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(window.until.toISOString()).toBe('2026-11-20T12:00:00.000Z');
  });

  it.each([
    [{ since: '2026-11-20T00:00:00Z' }, /until must be an ISO-8601/],
    [{ since: 'yesterday', until: '2026-11-20' }, /since must be an ISO/],
    [{ since: '2026-11-21', until: '2026-11-20' }, /until must be after/],
  ])('throws on the window %j', (request, message) => {
    // Act / Assess
    const act = () => windowOf(request, now);
    expect(act).toThrow(UpkeepConfigError);
    expect(act).toThrow(message);
  });
});

/** A dead letter with the consumer's attributes. */
function deadLetter(reason: string, at: string | undefined): Message {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  return {
    MessageId: 'm-1',
    ReceiptHandle: 'r-1',
    Body: '{"id":"t-1"}',
    Attributes: { SentTimestamp: '1764662400000' },
    MessageAttributes: {
      'tasklane.reason': text(reason),
      ...(at && { 'tasklane.deadLetteredAt': text(at) }),
    },
  };
}

describe('isDueInvalid', () => {
  const cutoff = Date.parse('2026-11-26T06:00:00Z');

  it.each([
    ['INVALID', '2026-11-26T06:00:00Z', true],
    ['INVALID', '2026-11-20T00:00:00Z', true],
    ['INVALID', '2026-11-26T06:00:01Z', false],
    ['RETRIES_EXHAUSTED', '2026-11-01T00:00:00Z', false],
    ['INVALID', undefined, false],
    ['INVALID', 'not a date', false],
  ])('says %s dead-lettered at %s is due: %s', (reason, at, due) => {
    // Act / Assess
    expect(isDueInvalid(deadLetter(reason, at), cutoff)).toBe(due);
  });

  it('keeps a message without tasklane attributes', () => {
    // Act / Assess
    expect(isDueInvalid({ Body: 'x' }, cutoff)).toBe(false);
  });
});

describe('archive lines', () => {
  it('keep body and attributes, and read back as written', () => {
    // Prepare
    const message = deadLetter('INVALID', '2026-11-20T00:00:00Z');

    // Act
    const text = `${archiveLine(message)}\n${archiveLine(message)}\n`;

    // Assess
    expect(parseArchive(text)).toEqual([
      {
        messageId: 'm-1',
        body: '{"id":"t-1"}',
        attributes: {
          'tasklane.reason': 'INVALID',
          'tasklane.deadLetteredAt': '2026-11-20T00:00:00Z',
        },
        systemAttributes: { SentTimestamp: '1764662400000' },
      },
      expect.objectContaining({ messageId: 'm-1' }),
    ]);
  });

  it('are stored under the day and the queue', () => {
    // Act / Assess
    expect(archiveKey('tl-a-dlq', new Date('2026-12-03T06:00:00Z'))).toBe(
      'dead-letters/2026-12-03/tl-a-dlq.jsonl',
    );
  });
});
