import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTasklaneApp } from '../../lib/infra/app.ts';

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs?: readonly { constructPath?: string }[];
  readonly acknowledgedId?: string;
  readonly reason?: string;
}

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: readonly Violation[];
  readonly suppressedViolations?: readonly Violation[];
}

let outdir: string;
let app: App;
let reports: PluginReport[];

beforeAll(() => {
  // GIVEN the app as `npm run synth` builds it, with the code bundled
  outdir = mkdtempSync(join(tmpdir(), 'tasklane-synth-'));
  ({ app } = createTasklaneApp({
    outdir,
    context: { allowlistCidrs: '203.0.113.0/24' },
  }));

  // WHEN it is synthesised: unacknowledged findings would throw here
  app.synth();
  const file = join(outdir, 'validation-report.json');
  reports = JSON.parse(readFileSync(file, 'utf8')).pluginReports;
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk-nag AwsSolutions and Control Tower guard rules', () => {
  it('report no unacknowledged finding', () => {
    // THEN
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) {
      expect(report.violations, report.pluginName).toEqual([]);
      expect(report.conclusion).toBe('success');
    }
  });

  it('find nothing left in the AwsSolutions pack once acknowledged', () => {
    // WHEN
    const result = new AwsSolutionsChecks().validateScope(app);

    // THEN
    expect(result.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('ran the guard rules, and each acknowledgement gives its reason', () => {
    // THEN
    const guard = reports.find(
      (r) => r.pluginName === 'cdk-validator-cfnguard',
    );
    const suppressed = guard?.suppressedViolations ?? [];
    expect(suppressed.map((v) => v.ruleName)).toContain(
      'lambda_inside_vpc_check',
    );
    for (const violation of suppressed) {
      expect(violation.reason?.length ?? 0).toBeGreaterThan(40);
    }
  });
});
