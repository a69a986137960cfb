import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { createProducer } from '../../lib/producer.ts';
import {
  createIdleQueues,
  type IdleQueues,
  plantDeadLetter,
  queueDepth,
  receiveBodies,
  tasklaneOn,
} from '../helpers/ops-pipeline.ts';
import {
  finalStatus,
  startTestPipeline,
  testRegistry,
} from '../helpers/pipeline.ts';

let pipeline: LocalPipeline;
let tasklane: ReturnType<typeof tasklaneOn>;
/** Queues of an `idle` task type that no consumer reads. */
let idle: IdleQueues;
/** Tasks of demo.flaky the consumer dead-lettered, by reason. */
const deadLettered = { invalid: [] as string[], exhausted: '' };

function demoDlq(): string {
  return pipeline.resources.deadLetterQueueUrls.get('demo.flaky') ?? '';
}

beforeAll(async () => {
  pipeline = await startTestPipeline();
  tasklane = tasklaneOn(pipeline);
  idle = await createIdleQueues(pipeline);
});

afterAll(async () => {
  await pipeline?.stop();
});

describe('tasklane dlq list and show', () => {
  beforeAll(async () => {
    const producer = createProducer({
      sqs: pipeline.clients.sqs,
      registry: testRegistry,
      prefix: 'test',
    });
    const send = async (businessId: string, failTimes: number) =>
      (
        await producer.send({
          taskType: 'demo.flaky',
          businessId,
          payload: { failTimes },
        })
      ).id;
    deadLettered.invalid = [
      await send('missing-1', 0),
      await send('missing-2', 0),
    ];
    deadLettered.exhausted = await send('exhausted-1', 10);
    for (const id of [...deadLettered.invalid, deadLettered.exhausted]) {
      expect((await finalStatus(pipeline, id)).status).toBe('failed');
    }
  });

  it('groups dead-lettered tasks by reason and leaves them in the queue', async () => {
    // Act
    const run = await tasklane('dlq', 'list', '--type', 'demo.flaky');
    const json = await tasklane('dlq', 'list', '--json');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'test-demo-flaky-dlq: 3 dead-lettered task(s)',
      '  INVALID  2',
      '    BUSINESS_ID_NOT_FOUND  2',
      expect.stringMatching(/^ {4}tasks: /),
      '  RETRIES_EXHAUSTED  1',
      expect.stringMatching(/^ {4}[A-Z_]+ {2}1$/),
      `    tasks: ${deadLettered.exhausted}`,
    ]);
    for (const id of deadLettered.invalid) expect(lines[3]).toContain(id);
    expect(json.code).toBe(0);
    const queues = JSON.parse(json.stdout).queues;
    expect(queues.map((q: { queue: string }) => q.queue)).toContain(
      'test-order-notification-dlq',
    );
    expect(
      queues.find((q: { queue: string }) => q.queue === 'test-demo-flaky-dlq'),
    ).toMatchObject({ total: 3, complete: true });
    expect(await queueDepth(pipeline, demoDlq())).toBe(3);
  });

  it('shows one task with its reason, attempts and error history', async () => {
    // Act
    const run = await tasklane('dlq', 'show', deadLettered.exhausted);
    const json = await tasklane(
      'dlq',
      'show',
      deadLettered.exhausted,
      '--json',
    );
    const missing = await tasklane('dlq', 'show', 'no-such-task');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('queue:            test-demo-flaky-dlq');
    expect(run.stdout).toContain('reason:           RETRIES_EXHAUSTED');
    expect(run.stdout).toContain('attempts:         6');
    expect(run.stdout).toMatch(/error history \(6\):\n( {2}#\d .*\n){6}body:/);
    expect(JSON.parse(json.stdout).history).toHaveLength(6);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('task no-such-task is in no dead-letter');
  });
});

describe('tasklane dlq redrive', () => {
  it('moves tasks back to their source queues; each is in one or the other', async () => {
    // Prepare
    const exhausted = [];
    for (let i = 0; i < 3; i += 1) {
      exhausted.push(
        await plantDeadLetter(pipeline, idle, 'RETRIES_EXHAUSTED', 'normal'),
      );
    }
    const invalid = [
      await plantDeadLetter(pipeline, idle, 'INVALID', 'high'),
      await plantDeadLetter(pipeline, idle, 'INVALID', 'high'),
    ];
    const normalBefore = await queueDepth(pipeline, idle.normal.url);

    // Act: two of one reason, then the rest.
    const some = await tasklane(
      'dlq',
      'redrive',
      '--type',
      'idle',
      '--reason',
      'RETRIES_EXHAUSTED',
      '--limit',
      '2',
    );
    const afterSome = await queueDepth(pipeline, idle.dlq.url);
    const rest = await tasklane('dlq', 'redrive', '--type', 'idle', '--json');

    // Assess
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout).toBe(
      'redrove 2 of 5 dead letters from test-idle-dlq to test-idle-normal 2\n' +
        '3 left in test-idle-dlq\n',
    );
    expect(afterSome).toBe(3);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout)).toEqual({
      queue: 'test-idle-dlq',
      mode: 'per-message',
      seen: 3,
      redriven: 3,
      left: 0,
      destinations: { 'test-idle-normal': 1, 'test-idle-high': 2 },
      failures: [],
    });
    expect(await queueDepth(pipeline, idle.dlq.url)).toBe(0);
    expect(await queueDepth(pipeline, idle.normal.url)).toBe(normalBefore + 3);
    expect((await receiveBodies(pipeline, idle.high.url)).sort()).toEqual(
      invalid.sort(),
    );
    const bodies = await receiveBodies(pipeline, idle.normal.url);
    for (const body of exhausted) expect(bodies).toContain(body);
  });

  it('returns real dead letters to the consumer, which judges them again', async () => {
    // Act
    const run = await tasklane(
      'dlq',
      'redrive',
      '--type',
      'demo.flaky',
      '--reason',
      'INVALID',
    );

    // Assess: still invalid, both come back to the dead-letter queue.
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'redrove 2 of 3 dead letters from test-demo-flaky-dlq to ' +
        'test-demo-flaky-normal 2',
    );
    const deadline = Date.now() + 20_000;
    while (
      (await queueDepth(pipeline, demoDlq())) < 3 &&
      Date.now() < deadline
    ) {
      await sleep(200);
    }
    expect(await queueDepth(pipeline, demoDlq())).toBe(3);
  });
});

describe('tasklane dlq purge', () => {
  it('refuses without --archive and deletes nothing', async () => {
    const run = await tasklane('dlq', 'purge', '--type', 'demo.flaky');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/required option '--archive/);
    expect(await queueDepth(pipeline, demoDlq())).toBe(3);
  });

  it('archives every message to a file, then deletes those it archived', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'cli-ops-')), 'dead.jsonl');

    // Act
    const run = await tasklane(
      'dlq',
      'purge',
      '--type',
      'demo.flaky',
      '--archive',
      file,
      '--json',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(report).toMatchObject({ seen: 3, archived: 3, purged: 3, left: 0 });
    expect(lines).toHaveLength(report.purged);
    const archived = lines.map((line) => JSON.parse(line));
    expect(archived.map((a) => a.taskId).sort()).toEqual(
      [...deadLettered.invalid, deadLettered.exhausted].sort(),
    );
    for (const entry of archived) {
      expect(JSON.parse(entry.body).id).toBe(entry.taskId);
      expect(entry.messageAttributes['tasklane.reason'].StringValue).toMatch(
        /^(INVALID|RETRIES_EXHAUSTED)$/,
      );
    }
    expect(await queueDepth(pipeline, demoDlq())).toBe(0);
  });

  it('archives to a bucket', async () => {
    // Prepare
    const bodies = [
      await plantDeadLetter(pipeline, idle, 'INVALID', 'high'),
      await plantDeadLetter(pipeline, idle, 'INVALID', 'normal'),
    ];

    // Act
    const run = await tasklane(
      'dlq',
      'purge',
      '--type',
      'idle',
      '--archive',
      's3://test-backup/dead-letters',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^archived and deleted 2 of 2 dead letters from test-idle-dlq to s3:\/\/test-backup\/dead-letters\/test-idle-dlq\//,
    );
    const s3 = pipeline.clients.s3;
    const { Contents = [] } = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'test-backup',
        Prefix: 'dead-letters/test-idle-dlq/',
      }),
    );
    expect(Contents).toHaveLength(1);
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'test-backup', Key: Contents[0]?.Key }),
    );
    const text = (await object.Body?.transformToString()) ?? '';
    const archived = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).body);
    expect(archived.sort()).toEqual(bodies.sort());
    expect(await queueDepth(pipeline, idle.dlq.url)).toBe(0);
  });
});
