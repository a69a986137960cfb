import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadtestCommand } from '../../lib/cli/loadtest-command.ts';
import { renderHtml } from '../../lib/loadtest/chart.ts';
import type { FinalRecord } from '../../lib/loadtest/collect.ts';
import { DEFAULT_MIX, type LoadtestPlan } from '../../lib/loadtest/plan.ts';
import { formatSummary, writeResultFiles } from '../../lib/loadtest/report.ts';
import { buildResult } from '../../lib/loadtest/result.ts';
import type { SendOutcome, SentRecord } from '../../lib/loadtest/sender.ts';
import { runOps } from '../helpers/ops-cli.ts';

const START = Date.parse('2026-12-03T10:00:00.000Z');

const plan: LoadtestPlan = {
  rate: 10,
  durationSeconds: 1,
  mix: DEFAULT_MIX,
  highShare: 0,
  failShare: 0.1,
  poisonShare: 0.1,
  senders: 2,
  waitSeconds: 30,
  templates: {},
};

const context = {
  target: { mode: 'local', endpoint: 'http://127.0.0.1:4566', prefix: 'x' },
  machine: { cpus: 2, loadStart: [0.5, 0.4, 0.3], loadEnd: [1, 0.5, 0.3] },
};

/**
 * Ten tasks sent 100 ms apart: eight plain ones done after 10, 20, ... 80
 * ms, one that succeeded on retry after 1,500 ms, one dead-lettered.
 */
function tenTasks(latencyOf = (i: number) => (i + 1) * 10) {
  const sent = new Map<string, SentRecord>();
  const finals = new Map<string, FinalRecord>();
  for (let i = 0; i < 10; i += 1) {
    const kind = i === 8 ? 'transient' : i === 9 ? 'poison' : 'plain';
    const id = `task-${i}`;
    const sentAt = START + i * 100;
    const queueName = 'x-demo-flaky-normal';
    sent.set(id, { id, kind, taskType: 'demo.flaky', queueName, sentAt });
    const ended = { taskId: id, finishedAt: sentAt + latencyOf(i) };
    if (kind === 'plain') {
      finals.set(id, { ...ended, status: 'completed', attempts: 1 });
    } else if (kind === 'transient') {
      finals.set(id, { ...ended, status: 'completed', attempts: 2 });
    } else {
      finals.set(id, { ...ended, status: 'failed', attempts: 6 });
    }
  }
  const outcome: SendOutcome = {
    sent,
    refused: 0,
    rejected: 0,
    problems: [],
    startedAt: START,
    endedAt: START + 1000,
  };
  return { outcome, finals };
}

describe('buildResult', () => {
  it('counts every task and judges R14 on first-attempt successes', () => {
    // Prepare
    const { outcome, finals } = tenTasks((i) => (i === 8 ? 1500 : i * 10 + 10));

    // Act
    const result = buildResult(plan, outcome, finals, context);

    // Assess
    expect(result.counts).toMatchObject({
      sent: 10,
      completed: 9,
      completedFirstAttempt: 8,
      completedAfterRetry: 1,
      deadLettered: 1,
      missing: 0,
    });
    expect(result.failureRate).toBe(0.1);
    expect(result.achievedRate).toBe(10);
    expect(result.latencyMs.firstAttempt).toMatchObject({
      p50: 40,
      p99: 80,
      max: 80,
    });
    expect(result.latencyMs.completed.max).toBe(1500);
    const r14 = result.verdicts.find((v) => v.id === 'R14');
    expect(r14).toMatchObject({ pass: true, measured: 80, threshold: 500 });
    expect(r14?.note).toMatch(/injected failures wait for their retries/);
  });

  it('fails R15 below 10,000 msg/s on the busiest queue', () => {
    // Act
    const { outcome, finals } = tenTasks();
    const result = buildResult(plan, outcome, finals, context);

    // Assess
    expect(result.verdicts.find((v) => v.id === 'R15')).toMatchObject({
      pass: false,
      measured: 10,
      threshold: 10_000,
    });
    expect(result.pass).toBe(false);
  });

  it('fails R14 over 500 ms and counts a task with no status missing', () => {
    // Prepare
    const { outcome, finals } = tenTasks((i) => i * 100);
    finals.delete('task-3');

    // Act
    const result = buildResult(plan, outcome, finals, context);

    // Assess
    expect(result.counts.missing).toBe(1);
    const byId = new Map(result.verdicts.map((v) => [v.id, v]));
    expect(byId.get('R14')).toMatchObject({ pass: false, measured: 700 });
    expect(byId.get('R14')?.note).toMatch(/1 tasks had no final status/);
    expect(byId.get('ACCOUNTED')).toMatchObject({ pass: false, measured: 1 });
  });
});

describe('report', () => {
  it('prints the counts, the percentiles and each verdict', () => {
    // Prepare
    const { outcome, finals } = tenTasks();
    const result = buildResult(plan, outcome, finals, context);

    // Act
    const text = formatSummary(result);

    // Assess
    expect(text).toMatch(/sent {11}10 of 10 in 1 s: 10 tasks\/s/);
    expect(text).toMatch(/dead-lettered 1, missing 0/);
    expect(text).toMatch(/first attempt p50 40 ms {2}p95 80 ms {2}p99 80 ms/);
    expect(text).toMatch(/R14 {12}PASS 80 ms \(p99\) ≤ 500/);
    expect(text).toMatch(/R15 {12}FAIL 10 msg\/s ≥ 10000/);
    expect(text).toMatch(/result {9}FAIL/);
  });

  it('draws an HTML page with inline SVG charts and the numbers', () => {
    // Prepare
    const { outcome, finals } = tenTasks();
    const result = buildResult(plan, outcome, finals, context);

    // Act
    const html = renderHtml(result);

    // Assess
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('p99 80 ms');
    expect(html).toContain('below the R14 limit of 500 ms');
    expect(html).not.toMatch(/<(script|link|img)\b|src=|href=/);
  });

  it('marks the R14 limit on the histogram when latencies pass it', () => {
    // Prepare
    const { outcome, finals } = tenTasks((i) => i * 100);

    // Act
    const html = renderHtml(buildResult(plan, outcome, finals, context));

    // Assess
    expect(html).toMatch(
      /<line [^>]*stroke="#555"[^>]*\/><text [^>]*>R14 500 ms/,
    );
    expect(html).toContain('<td class="fail">FAIL</td>');
  });

  it('escapes text from the target in the page', () => {
    // Prepare
    const { outcome, finals } = tenTasks();
    const target = { ...context.target, endpoint: 'http://h/<b>&' };

    // Act
    const html = renderHtml(
      buildResult(plan, outcome, finals, { ...context, target }),
    );

    // Assess
    expect(html).toContain('http://h/&lt;b&gt;&amp;');
  });

  it('writes the JSON and HTML files named by the start time', async () => {
    // Prepare
    const dir = join(mkdtempSync(join(tmpdir(), 'loadtest-')), 'out');
    const { outcome, finals } = tenTasks();
    const result = buildResult(plan, outcome, finals, context);

    // Act
    const files = await writeResultFiles(dir, result);

    // Assess
    expect(files.json).toBe(
      join(dir, 'loadtest-2026-12-03T10-00-00-000Z.json'),
    );
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(result);
    expect(readFileSync(files.html, 'utf8')).toContain('<svg');
  });
});

describe('tasklane loadtest options', () => {
  it('exits 2 without --mix on AWS, where demo.flaky does not exist', async () => {
    // Act
    const run = await runOps(loadtestCommand, [
      'loadtest',
      '--region',
      'eu-west-1',
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--mix is required on AWS/);
  });

  it('exits 2 for a share outside 0-1', async () => {
    // Act
    const run = await runOps(loadtestCommand, [
      'loadtest',
      '--fail-share',
      '2',
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/must be a share from 0 to 1 \(got 2\)/);
  });
});
