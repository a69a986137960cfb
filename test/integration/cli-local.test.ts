import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

describe('tasklane local', () => {
  it('prints ready, runs the demo and stops cleanly on SIGINT', async () => {
    // Prepare
    const child = spawn(
      process.execPath,
      [
        'bin/tasklane.ts',
        'local',
        '--port',
        '0',
        '--dynamodb-port',
        '0',
        '--metrics-port',
        '0',
        '--control-port',
        '0',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // The consumers' JSON logs go to stderr; kept for a failure's message.
    let logs = '';
    child.stderr.on('data', (chunk) => {
      logs += chunk;
    });
    const lines: string[] = [];
    const demoLines = () => lines.filter((l) => /^demo: a/.test(l));

    // Act: read until the five demo outcomes are printed, then interrupt.
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line);
      if (demoLines().length === 5) break;
    }
    const metricsUrl = lines
      .map((l) => /Prometheus metrics +(\S+)/.exec(l)?.[1])
      .find(Boolean);
    const metrics = await (await fetch(metricsUrl ?? '')).text();
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');

    // Assess
    expect(
      lines.some((l) =>
        /^ready: send tasks to http:\/\/127\.0\.0\.1:\d+/.test(l),
      ),
    ).toBe(true);
    expect(demoLines()).toEqual([
      expect.stringMatching(
        /a success +completed +order\.notification order-1001 after 1 attempt$/,
      ),
      expect.stringMatching(
        /a success +completed +data\.backup daily-report after 1 attempt$/,
      ),
      expect.stringMatching(
        /a retry that later succeeds +completed +demo\.flaky demo-1 after 3 attempts$/,
      ),
      expect.stringMatching(
        /does not exist +dead-lettered .*order-9999: INVALID .*businessId/,
      ),
      expect.stringMatching(
        /an invalid envelope +dead-lettered .*INVALID field priority/,
      ),
    ]);
    expect(metrics).toMatch(
      /tasklane_task_completed_total\{task_type="order\.notification"\} 1/,
    );
    expect(code, logs).toBe(0);
  });
});
