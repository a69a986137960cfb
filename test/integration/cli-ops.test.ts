import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  createIdleQueues,
  type IdleQueues,
  tasklaneOn,
} from '../helpers/ops-pipeline.ts';
import { finalStatus, startTestPipeline } from '../helpers/pipeline.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

let pipeline: LocalPipeline;
let tasklane: ReturnType<typeof tasklaneOn>;
/** Queues of an `idle` task type that no consumer reads. */
let idle: IdleQueues;

beforeAll(async () => {
  pipeline = await startTestPipeline();
  tasklane = tasklaneOn(pipeline);
  idle = await createIdleQueues(pipeline);
});

afterAll(async () => {
  await pipeline?.stop();
});

describe('tasklane send', () => {
  it('prints the id and queue of a valid task, which then runs', async () => {
    // Act
    const run = await tasklane(
      'send',
      '--type',
      'demo.flaky',
      '--business-id',
      'cli-1',
      '--payload',
      '{"workMs":1}',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const match = new RegExp(`^sent (${UUID}) to test-demo-flaky-normal\n$`);
    expect(run.stdout).toMatch(match);
    const id = run.stdout.match(match)?.[1] ?? '';
    expect((await finalStatus(pipeline, id)).status).toBe('completed');
  });

  it('sends a file of tasks and prints JSON', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'cli-ops-')), 'tasks.json');
    const task = (businessId: string, priority: string) => ({
      taskType: 'demo.flaky',
      businessId,
      priority,
      payload: {},
    });
    writeFileSync(
      file,
      JSON.stringify([task('f-1', 'high'), task('f-2', 'normal')]),
    );

    // Act
    const run = await tasklane('send', '--file', file, '--json');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const { sent } = JSON.parse(run.stdout);
    expect(sent.map((s: { queueName: string }) => s.queueName)).toEqual([
      'test-demo-flaky-high',
      'test-demo-flaky-normal',
    ]);
    for (const { id } of sent) {
      expect((await finalStatus(pipeline, id)).status).toBe('completed');
    }
  });

  it('exits 2 naming the field and the value of an invalid task', async () => {
    const run = await tasklane(
      'send',
      '--type',
      'demo.flaky',
      '--business-id',
      'cli-2',
      '--timeout-ms',
      '50',
      '--payload',
      '{"failTimes":99}',
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/field timeoutMs: .*\(got 50\)/);
    expect(run.stderr).toMatch(/field payload\.failTimes: .*\(got 99\)/);
  });
});

describe('tasklane stats', () => {
  it('lists every queue and exits 0 when no threshold is passed', async () => {
    // Act
    const run = await tasklane('stats');
    const json = await tasklane('stats', '--json');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    for (const type of ['demo-flaky', 'order-notification', 'data-backup']) {
      for (const kind of ['high', 'normal', 'dlq']) {
        expect(run.stdout).toMatch(
          new RegExp(`^test-${type}-${kind} +${kind} +0 +0 +0 +0 ms *$`, 'm'),
        );
      }
    }
    expect(run.stdout).toContain('no task queue over a threshold');
    expect(run.stdout).toContain('ages: read from the emulator now');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      thresholds: { depth: 8000, ageMs: 1000 },
      breached: false,
      age: { source: 'emulator' },
    });
  });

  it('marks a queue over the thresholds and exits 3', async () => {
    // Prepare: a queue without consumer holds three messages.
    for (const n of [1, 2, 3]) {
      await pipeline.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: idle.normal.url,
          MessageBody: `${n}`,
        }),
      );
    }
    const thresholds = ['--depth-threshold', '2', '--age-threshold-ms', '100'];
    await sleep(150);

    // Act
    const run = await tasklane('stats', ...thresholds);
    const json = await tasklane('stats', ...thresholds, '--json');

    // Assess
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      /^test-idle-normal +normal +3 ! +0 +0 +[\d.]+ m?s !$/m,
    );
    expect(run.stdout).toContain('1 task queue(s) over a threshold');
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout);
    expect(report.breached).toBe(true);
    expect(
      report.queues.find(
        (q: { name: string }) => q.name === 'test-idle-normal',
      ),
    ).toMatchObject({ depth: 3, breaches: ['depth', 'age'] });
  });
});
