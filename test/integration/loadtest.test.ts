import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, type Target } from '../../lib/cli/target.ts';
import { DEFAULT_MIX, type LoadtestPlan } from '../../lib/loadtest/plan.ts';
import { writeResultFiles } from '../../lib/loadtest/report.ts';
import type { LoadtestResult } from '../../lib/loadtest/result.ts';
import { runLoadtest } from '../../lib/loadtest/runner.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { runTasklane } from '../helpers/control-cli.ts';
import { startTestPipeline } from '../helpers/pipeline.ts';

let pipeline: LocalPipeline;
let target: Target;

beforeAll(async () => {
  pipeline = await startTestPipeline();
  target = openTarget({
    endpoint: pipeline.endpoint,
    prefix: pipeline.prefix,
    stack: 'unused-locally',
  });
});

afterAll(async () => {
  target?.destroy();
  await pipeline?.stop();
});

/**
 * 50 tasks/s for 2 s after a 1 s warm-up, 10 % failing once, 5 % failing
 * every time.
 */
const plan: LoadtestPlan = {
  rate: 50,
  durationSeconds: 2,
  mix: DEFAULT_MIX,
  highShare: 0.2,
  failShare: 0.1,
  poisonShare: 0.05,
  senders: 2,
  // The test pipeline retries after 1 s: a poison task ends in about 6 s.
  waitSeconds: 45,
  warmupSeconds: 1,
  templates: {},
};

function outbox() {
  return {
    dynamodb: pipeline.clients.dynamodb,
    tableName: pipeline.resources.names.statusOutboxTable,
  };
}

describe('runLoadtest', () => {
  let result: LoadtestResult;

  beforeAll(async () => {
    result = await runLoadtest(plan, { target, outbox: outbox() });
  });

  it('accounts for every sent task: completed + dead-lettered = sent', () => {
    // Assess: the 50 warm-up tasks are not counted.
    const { counts, sentByKind } = result;
    expect(counts.sent).toBe(100);
    expect(counts.refused + counts.rejected).toBe(0);
    expect(counts.missing).toBe(0);
    expect(counts.completed + counts.deadLettered).toBe(counts.sent);
    expect(counts.deadLettered).toBe(sentByKind.poison);
    expect(counts.completedAfterRetry).toBe(sentByKind.transient);
    expect(result.failureRate).toBeCloseTo(sentByKind.poison / 100, 4);
  });

  it('measures ordered percentiles from the outbox', () => {
    // Assess
    for (const summary of Object.values(result.latencyMs)) {
      const { p50, p95, p99, max } = summary;
      expect(summary.count).toBeGreaterThan(0);
      expect(p50).toBeGreaterThan(0);
      expect(p50).toBeLessThanOrEqual(p95 as number);
      expect(p95).toBeLessThanOrEqual(p99 as number);
      expect(p99).toBeLessThanOrEqual(max as number);
    }
    // Retried tasks wait at least the 1 s retry delay.
    expect(result.latencyMs.completed.max).toBeGreaterThanOrEqual(1000);
  });

  it('paces the sends near the target rate and judges R15 a fail', () => {
    // Assess
    expect(result.sendSeconds).toBeGreaterThanOrEqual(1.8);
    expect(result.achievedRate).toBeGreaterThan(25);
    expect(result.queues.map((q) => q.queueName).sort()).toEqual([
      'test-demo-flaky-high',
      'test-demo-flaky-normal',
    ]);
    expect(result.verdicts.find((v) => v.id === 'R15')?.pass).toBe(false);
    expect(result.pass).toBe(false);
  });

  it('writes a JSON file that parses and an HTML chart', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'loadtest-'));

    // Act
    const files = await writeResultFiles(dir, result);

    // Assess
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect(json.counts).toEqual(result.counts);
    const html = readFileSync(files.html, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain(`${result.latencyMs.firstAttempt.p99} ms`);
  });
});

describe('tasklane loadtest', () => {
  it('runs as a command, prints the summary and exits 5 on R15', async () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), 'loadtest-cli-'));

    // Act
    const run = await runTasklane([
      'loadtest',
      ...['--endpoint', pipeline.endpoint],
      ...['--dynamodb-endpoint', pipeline.dynamodbEndpoint],
      ...['--prefix', pipeline.prefix],
      ...['--rate', '20', '--duration', '1', '--fail-share', '0.1'],
      ...['--out', out],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(5);
    expect(run.stdout).toMatch(/sent {11}20 of 20 in [\d.]+ s/);
    expect(run.stdout).toMatch(/dead-lettered 0, missing 0/);
    expect(run.stdout).toMatch(/first attempt p50 \d+ ms {2}p95 \d+ ms/);
    expect(run.stdout).toMatch(/R14 {12}(PASS|FAIL) \d+ ms \(p99\)/);
    expect(run.stdout).toMatch(/R15 {12}FAIL [\d.]+ msg\/s ≥ 10000/);
    expect(readdirSync(out).sort()).toEqual([
      expect.stringMatching(/^loadtest-.*\.html$/),
      expect.stringMatching(/^loadtest-.*\.json$/),
    ]);
  });

  it('exits 1 naming the queue when demo.flaky is not served', async () => {
    // Act
    const run = await runTasklane([
      'loadtest',
      ...['--endpoint', pipeline.endpoint],
      ...['--dynamodb-endpoint', pipeline.dynamodbEndpoint],
      ...['--prefix', 'nothere', '--rate', '10', '--duration', '1'],
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /QUEUE_MISSING: queue nothere-demo-flaky-normal does not exist.*--no-demo/,
    );
  });
});
