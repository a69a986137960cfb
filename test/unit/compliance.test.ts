import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PACKAGE_ROOT,
  REQUIREMENTS,
  runCompliance,
} from '../../lib/ops/compliance.ts';
import {
  type CfnTemplate,
  TemplateView,
} from '../../lib/ops/compliance-template.ts';
import {
  ALLOWLIST_DENY,
  edited,
  laneResources,
  type Resources,
  TLS_DENY,
  withStatements,
} from '../helpers/lane-template.ts';

/** Runs the check of one requirement on the given resources. */
function check(id: string, resources: Resources, root = PACKAGE_ROOT) {
  const template: CfnTemplate = { Resources: resources };
  const [result] = runCompliance(
    { view: new TemplateView(template), root },
    REQUIREMENTS.filter((r) => r.id === id),
  );
  return result;
}

/** A lane with the callbacks' group, sweep and a dispatcher keeping `interval`. */
function callbackResources(interval: string): Resources {
  const variables =
    interval === 'unset' ? {} : { TASKLANE_CALLBACK_INTERVAL: interval };
  return {
    ...laneResources(),
    Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: {} },
    Sweep: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        ScheduleExpression: 'rate(5 minutes)',
        Target: { Input: '{"sweep":"pending-targets"}' },
      },
    },
    CallbackDispatcher: {
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: variables } },
    },
  };
}

describe('TemplateView', () => {
  it('joins each consumer to its mappings and their queues', () => {
    // Act
    const [lane] = new TemplateView({ Resources: laneResources() }).lanes();

    // Assess
    expect(lane?.taskType).toBe('order.notification');
    expect(lane?.timeoutSeconds).toBe(30);
    expect(lane?.mappings.map((m) => m.queue?.name).sort()).toEqual([
      'tl-order-notification-high',
      'tl-order-notification-normal',
    ]);
  });
});

describe('the requirement checks', () => {
  it('pass on a lane built as the stack builds it', () => {
    for (const id of [
      'R5',
      'R6',
      'R7',
      'R8',
      'R9',
      'R10',
      'R13',
      'R16',
      'R17',
    ]) {
      expect(check(id, laneResources())?.status, id).toBe('PASS');
    }
  });

  it('fails R16 naming a queue without the TLS deny or KMS', () => {
    // Prepare
    const noDeny = withStatements(laneResources(), 'HighPolicy', [
      ALLOWLIST_DENY,
    ]);
    const noKey = edited(laneResources(), 'Dlq', (p) => {
      delete p.KmsMasterKeyId;
    });

    // Act
    const results = [check('R16', noDeny), check('R16', noKey)];

    // Assess
    expect(results.map((r) => r?.status)).toEqual(['FAIL', 'FAIL']);
    expect(results[0]?.evidence).toBe(
      'tl-order-notification-high has no TLS deny',
    );
    expect(results[1]?.evidence).toBe(
      'tl-order-notification-dlq is not KMS-encrypted',
    );
  });

  it('fails R17 without an allowlist, and names a queue left open', () => {
    // Prepare
    let none = laneResources();
    for (const id of ['DlqPolicy', 'HighPolicy', 'NormalPolicy']) {
      none = withStatements(none, id, [TLS_DENY]);
    }
    const oneOpen = withStatements(laneResources(), 'DlqPolicy', [TLS_DENY]);

    // Act
    const [absent, partial, full] = [none, oneOpen, laneResources()].map((r) =>
      check('R17', r),
    );

    // Assess
    expect(absent?.status).toBe('FAIL');
    expect(absent?.evidence).toMatch(/^no sender allowlist/);
    expect(partial?.evidence).toBe(
      'tl-order-notification-dlq has no allowlist deny',
    );
    expect(full?.evidence).toMatch(
      /deny sqs:SendMessage outside 203\.0\.113\.0\/24/,
    );
  });

  it('fails R5, R8, R9 and R10 when a mapping or queue setting is off', () => {
    // Prepare
    const lane = laneResources();
    const noMax = edited(lane, 'NormalMapping', (p) => {
      delete p.ScalingConfig;
    });
    const noPartial = edited(lane, 'HighMapping', (p) => {
      delete p.FunctionResponseTypes;
    });
    const lowRedrive = edited(lane, 'High', (p) => {
      p.RedrivePolicy.maxReceiveCount = 6;
    });
    const shortVisibility = edited(lane, 'Normal', (p) => {
      p.VisibilityTimeout = 100;
    });

    // Act
    const results = [
      check('R5', noMax),
      check('R9', noPartial),
      check('R8', lowRedrive),
      check('R10', shortVisibility),
    ];

    // Assess
    expect(results.map((r) => r?.evidence)).toEqual([
      'order.notification normal lane without maximum concurrency',
      'tl-order-notification-high without ReportBatchItemFailures',
      'a redrive maxReceiveCount is not above 6',
      'visibility tl-order-notification-normal 100 s < 6 x 30 s',
    ]);
    expect(results.every((r) => r?.status === 'FAIL')).toBe(true);
  });

  it('reads the retry delays of R8 from the consumer policy', () => {
    expect(check('R8', laneResources())?.evidence).toMatch(
      /maxRetries 5 \(6 executions\), delays 1-2 s, 2-4 s, 4-8 s, 8-16 s, 16-32 s/,
    );
  });

  it('fails R11 until a schedule group and a dispatcher exist', () => {
    // Prepare
    const withCallbacks = callbackResources('1m');

    // Act
    const [absent, present] = [laneResources(), withCallbacks].map((r) =>
      check('R11', r),
    );

    // Assess
    expect(absent?.status).toBe('FAIL');
    expect(absent?.evidence).toMatch(/not found in the template/);
    expect(present?.status).toBe('PASS');
    expect(present?.evidence).toMatch(
      /CallbackDispatcher \(interval 1m\).*sweep Sweep rate\(5 minutes\)/,
    );
  });

  it.each([
    ['30s', 'every 30s, more than once a minute'],
    ['unset', 'every unset'],
  ])('fails R11 with a dispatcher interval of %s', (interval, evidence) => {
    // Act
    const result = check('R11', callbackResources(interval));

    // Assess
    expect(result?.status).toBe('FAIL');
    expect(result?.evidence).toContain(evidence);
  });

  it('checks R21-R23 against the files of a repository', () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'tasklane-compliance-'));
    for (const dir of ['docs', 'ops/grafana', 'ops/prometheus']) {
      mkdirSync(join(root, dir), { recursive: true });
    }
    writeFileSync(join(root, 'package.json'), '{"version":"1.2.3"}');
    writeFileSync(join(root, 'CHANGELOG.md'), '# Changelog\n\n## 1.2.2\n');
    writeFileSync(join(root, 'ops/grafana/board.json'), '{}');
    writeFileSync(join(root, 'ops/prometheus/rules.yml'), 'groups: []');
    const resources = {
      ...laneResources(),
      Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
    };

    // Act
    const r21 = check('R21', resources, root);
    const r22 = check('R22', resources, root);
    const r23 = check('R23', resources, root);
    writeFileSync(join(root, 'CHANGELOG.md'), '## 1.2.3 (2026-12-03)\n');
    const released = check('R23', resources, root);

    // Assess
    expect(r21?.status).toBe('PASS');
    expect(r22?.evidence).toBe(
      'no runbook in docs/; no daily upkeep schedule in the template',
    );
    expect(r23?.evidence).toBe(
      'package.json version 1.2.3 has no CHANGELOG.md entry',
    );
    expect(released?.status).toBe('PASS');
  });
});
