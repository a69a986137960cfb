import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { formatSummary } from '../../lib/ops/daily-summary.ts';
import type { UpkeepConfig } from '../../lib/ops/upkeep-config.ts';
import { UpkeepIncompleteError } from '../../lib/ops/upkeep-errors.ts';
import { runUpkeep, type UpkeepDeps } from '../../lib/ops/upkeep-run.ts';
import {
  demoEnvelope,
  finalStatus,
  readDeadLetters,
  sendBody,
  startTestPipeline,
} from '../helpers/pipeline.ts';
import {
  createBucket,
  messageCount,
  readArchive,
  recordingLogger,
  topicWithInbox,
} from '../helpers/upkeep-local.ts';

const TYPE = 'demo.flaky';
const ARCHIVE = 'test-archive';
const DLQ = 'test-demo-flaky-dlq';

let pipeline: LocalPipeline;
let config: UpkeepConfig;
let inbox: Awaited<ReturnType<typeof topicWithInbox>>;
let since: string;
const invalidBodies: string[] = [];
let exhaustedBody: string;
const { logger, calls: logged } = recordingLogger();

function deps(): UpkeepDeps {
  return { ...pipeline.clients, logger };
}

/** The window from the start of the workload to now, as a manual run asks. */
function request(now = new Date()) {
  return { since, until: new Date(now.getTime() + 1).toISOString(), now };
}

/** The archive object of the demo dead-letter queue for the day of `now`. */
const keyOf = (now: Date) =>
  `dead-letters/${now.toISOString().slice(0, 10)}/${DLQ}.jsonl`;

const deadLetterCount = () =>
  messageCount(
    pipeline,
    pipeline.resources.deadLetterQueueUrls.get(TYPE) ?? '',
  );

/** Sends a body and waits for its task's final status. */
async function finish(body: string, taskId?: string) {
  const messageId = await sendBody(pipeline, TYPE, body);
  return finalStatus(pipeline, taskId ?? `message-${messageId}`);
}

/**
 * The workload: 8 tasks that succeed at once, 2 that succeed after 1 and
 * 2 failures, 3 invalid ones (not JSON, a bad payload, a business id that
 * does not exist) and 1 that fails 10 times, so exhausts its 6 executions.
 */
async function produceWorkload(): Promise<void> {
  const valid = (payload: Record<string, unknown>, businessId?: string) => {
    const envelope = demoEnvelope({
      payload,
      ...(businessId && { businessId }),
    });
    return { body: JSON.stringify(envelope), id: envelope.id };
  };
  const succeeding = [
    ...Array.from({ length: 8 }, () => valid({})),
    valid({ failTimes: 1 }),
    valid({ failTimes: 2 }),
  ];
  const badPayload = valid({ failTimes: 'x' });
  const missing = valid({}, `missing-${randomUUID().slice(0, 8)}`);
  const exhausted = valid({ failTimes: 10 });
  invalidBodies.push('not json at all', badPayload.body, missing.body);
  exhaustedBody = exhausted.body;

  await Promise.all([
    ...succeeding.map((task) => finish(task.body, task.id)),
    finish('not json at all'),
    finish(badPayload.body, badPayload.id),
    finish(missing.body, missing.id),
    finish(exhausted.body, exhausted.id),
  ]);
}

beforeAll(async () => {
  pipeline = await startTestPipeline();
  await createBucket(pipeline, ARCHIVE);
  inbox = await topicWithInbox(pipeline, 'test-alarms');
  config = {
    statusOutboxTable: pipeline.resources.names.statusOutboxTable,
    deadLetterQueueUrls: [...pipeline.resources.deadLetterQueueUrls.values()],
    alarmTopicArn: inbox.topicArn,
    archiveBucket: ARCHIVE,
    maxInvalidAgeDays: 7,
  };

  since = new Date().toISOString();
  await produceWorkload();
});

afterAll(() => pipeline?.stop());

describe('daily upkeep on the local pipeline', () => {
  it('summarises the known workload exactly, logs and publishes it', async () => {
    // Act: invalid tasks are minutes old, younger than 7 days
    const report = await runUpkeep(config, deps(), request());

    // Assess
    const { summary } = report;
    expect(summary).toEqual({
      since,
      until: expect.any(String),
      processed: 14,
      completed: 10,
      completedAfterRetry: 2,
      failed: 4,
      failureRatePercent: 28.57,
      deadLetteredByReason: { INVALID: 3, RETRIES_EXHAUSTED: 1 },
      byTaskType: {
        '(unknown)': { processed: 1, completed: 0, failed: 1 },
        'demo.flaky': { processed: 13, completed: 10, failed: 3 },
      },
      topErrors: [
        { error: 'TASK_FAILED', count: 1 },
        { error: expect.stringMatching(/^body is not valid JSON/), count: 1 },
        {
          error: expect.stringMatching(/^field businessId: "missing-/),
          count: 1,
        },
        { error: expect.stringMatching(/^field payload\.failTimes/), count: 1 },
      ],
    });
    expect(logged).toContainEqual({
      level: 'info',
      message: 'daily summary',
      fields: { summary },
    });
    const [published, ...more] = await inbox.receive();
    expect(more).toEqual([]);
    expect(published?.Subject).toBe(
      `tasklane daily summary ${since.slice(0, 10)}`,
    );
    const [line, , json] = (published?.Message ?? '').split('\n');
    expect(line).toBe(formatSummary(summary));
    expect(JSON.parse(json ?? '')).toEqual(summary);
  });

  it('keeps dead letters younger than the age limit', async () => {
    // Act
    const { deadLetters } = await runUpkeep(config, deps(), request());

    // Assess
    const demo = deadLetters.find((r) => r.queue === DLQ);
    expect(demo).toEqual({
      queue: DLQ,
      read: 4,
      archived: 0,
      removed: 0,
      kept: 4,
      more: false,
    });
    expect(await deadLetterCount()).toBe(4);
  });

  it('deletes nothing when the archive cannot be written', async () => {
    // Prepare
    const broken = {
      ...config,
      archiveBucket: 'no-such-bucket',
      maxInvalidAgeDays: 0,
    };

    // Act
    const run = runUpkeep(broken, deps(), request());

    // Assess
    await expect(run).rejects.toThrow(UpkeepIncompleteError);
    await expect(run).rejects.toThrow(
      /test-demo-flaky-dlq: dead letters of .* none removed/,
    );
    expect(await deadLetterCount()).toBe(4);
  });

  it('archives, then removes, the invalid tasks past the age', async () => {
    // Prepare: age 0 makes every dead-lettered invalid task due
    const now = new Date();

    // Act
    const { deadLetters } = await runUpkeep(
      { ...config, maxInvalidAgeDays: 0 },
      deps(),
      request(now),
    );

    // Assess
    const key = keyOf(now);
    expect(deadLetters).toContainEqual({
      queue: DLQ,
      read: 4,
      archived: 3,
      removed: 3,
      kept: 1,
      archiveKey: key,
      more: false,
    });
    const others = deadLetters.filter((r) => r.queue !== DLQ);
    expect(others.every((r) => r.read === 0)).toBe(true);

    const archived = await readArchive(pipeline, ARCHIVE, key);
    expect(archived.map((m) => m.body).sort()).toEqual(
      [...invalidBodies].sort(),
    );
    for (const message of archived) {
      expect(message.attributes['tasklane.reason']).toBe('INVALID');
      expect(message.attributes['tasklane.errorCode']).toMatch(/^[A-Z_]+$/);
    }
    expect(await deadLetterCount()).toBe(1);
  });

  it('appends a later run of the same day to the archive', async () => {
    // Prepare
    const late = JSON.stringify(demoEnvelope({ payload: { workMs: 'slow' } }));
    await finish(late, JSON.parse(late).id);
    const now = new Date();

    // Act
    await runUpkeep({ ...config, maxInvalidAgeDays: 0 }, deps(), request(now));

    // Assess
    const key = keyOf(now);
    const archived = await readArchive(pipeline, ARCHIVE, key);
    expect(archived.map((m) => m.body).sort()).toEqual(
      [...invalidBodies, late].sort(),
    );
    const left = await readDeadLetters(pipeline, TYPE);
    expect(left.map((m) => [m.reason, m.body])).toEqual([
      ['RETRIES_EXHAUSTED', exhaustedBody],
    ]);
  });
});
