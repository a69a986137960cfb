import { describe, expect, it } from 'vitest';
import {
  complianceExitCode,
  formatReport,
  runCompliance,
} from '../../lib/ops/compliance.ts';
import {
  type RunningConfig,
  runningRedrive,
  runningVisibility,
} from '../../lib/ops/compliance-running.ts';
import { TemplateView } from '../../lib/ops/compliance-template.ts';
import {
  combine,
  fail,
  info,
  pass,
} from '../../lib/ops/compliance-verdicts.ts';
import { laneResources } from '../helpers/lane-template.ts';

describe('runCompliance and the report', () => {
  it('fails a requirement whose check throws, and keeps the others', () => {
    // Act
    const results = runCompliance({ view: new TemplateView({}) }, [
      { id: 'R1', title: 'one', check: () => pass('fine') },
      {
        id: 'R2',
        title: 'two',
        check: () => {
          throw new Error('broken');
        },
      },
    ]);

    // Assess
    expect(results).toEqual([
      { id: 'R1', title: 'one', status: 'PASS', evidence: 'fine' },
      {
        id: 'R2',
        title: 'two',
        status: 'FAIL',
        evidence: 'the check could not run: broken',
      },
    ]);
    expect(complianceExitCode(results)).toBe(4);
    expect(complianceExitCode(results.slice(0, 1))).toBe(0);
  });

  it('prints one row per requirement, wraps the evidence and sums up', () => {
    // Prepare
    const results = [
      { id: 'R1', title: 'short', ...info('word '.repeat(30).trim()) },
      { id: 'R22', title: 'a longer title', ...fail('missing') },
    ];

    // Act
    const lines = formatReport(results, 60).split('\n');

    // Assess
    expect(lines[0]).toMatch(/^req +stat +requirement +evidence$/);
    expect(lines[2]).toMatch(/^R1 +INFO +short +word word/);
    expect(lines[3]).toMatch(/^ {20,}word/);
    expect(lines.find((l) => l.startsWith('R22'))).toMatch(
      /^R22 +FAIL +a longer title +missing$/,
    );
    expect(lines.at(-1)).toBe('0 PASS, 1 FAIL, 1 INFO');
    expect(lines.every((l) => l.length <= 60)).toBe(true);
  });
});

describe('the running configuration', () => {
  const running: RunningConfig = {
    where: 'local http://127.0.0.1:4566',
    prefix: 'test',
    queues: [
      {
        name: 'test-order-notification-normal',
        attributes: {
          VisibilityTimeout: '180',
          RedrivePolicy: '{"maxReceiveCount":10}',
        },
      },
      {
        name: 'test-order-notification-high',
        attributes: { VisibilityTimeout: '60' },
      },
    ],
  };

  it('fails a queue without redrive or with a short visibility', () => {
    // Act
    const redrive = runningRedrive(running, 6);
    const visibility = runningVisibility(
      running,
      new TemplateView({ Resources: laneResources() }),
    );

    // Assess
    expect(redrive).toEqual(
      fail(
        'running (local http://127.0.0.1:4566): ' +
          'test-order-notification-high redrives after never',
      ),
    );
    expect(visibility.evidence).toBe(
      'running (local http://127.0.0.1:4566): ' +
        'test-order-notification-high visibility 60 s < 6 x 30 s',
    );
  });

  it('combines with the template: a failure on either side fails', () => {
    expect(combine(pass('a'), fail('b'))).toEqual(fail('a; b'));
    expect(combine(info('a'), pass('b')).status).toBe('PASS');
    expect(combine(info('a'))).toEqual(info('a'));
  });
});
