import { describe, expect, it } from 'vitest';
import { resolveSoakOptions } from '../../soak/options.ts';
import { formatReport } from '../../soak/report.ts';
import { runSoak } from '../../soak/soak.ts';

// The full soak (`npm run soak`) sends 100,000 tasks; CI runs the same
// soak scaled down: 1,000 tasks, the same shares of failures (50
// transient, 10 poison) and the same three SIGKILL restarts. Fewer batches
// in flight keep each batch short (under 2.5 s here), so the function
// timeout and the visibility timeout, which every kill waits out, can be
// short too. 2,000 tasks took 32-56 s on a 2-core machine busy with other
// tests; 1,000 take 20-35 s.
describe('soak, scaled down', () => {
  it('accounts for every task through three consumer kills', async () => {
    // Prepare
    const options = resolveSoakOptions({
      tasks: 1_000,
      restarts: 3,
      callbackIntervalMs: 500,
      visibilitySeconds: 7,
      functionTimeoutMs: 6_000,
      concurrency: 3,
      stallMs: 30_000,
    });

    // Act
    const report = await runSoak(options);

    // Assess
    console.log(formatReport(report).join('\n'));
    const failed = report.checks.filter((check) => !check.ok);
    expect(failed).toEqual([]);
    expect(report.counts.sent).toBe(1_000);
    expect(report.counts.completed + report.counts.deadLettered).toBe(1_000);
    expect(report.counts.deadLettered).toBe(10);
    expect(report.kills).toHaveLength(3);
  }, 90_000);
});
