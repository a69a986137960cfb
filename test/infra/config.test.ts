import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import { createTasklaneApp } from '../../lib/infra/app.ts';
import { readPipelineConfig } from '../../lib/infra/config.ts';
import {
  ALLOWLIST_STATEMENT_SID,
  EMPTY_ALLOWLIST_WARNING,
} from '../../lib/infra/security.ts';
import type { TasklaneStack } from '../../lib/infra/stack.ts';
import {
  buildPipeline,
  mappingOf,
  NO_BUNDLING,
  queueId,
  synthFromContext,
} from '../helpers/pipeline-stack.ts';

const read = (context: Record<string, unknown>) =>
  readPipelineConfig(new App({ context }).node, builtInRegistry);

describe('configuration from cdk context', () => {
  let stack: TasklaneStack;
  let template: Template;

  beforeAll(() => {
    // GIVEN values as `cdk synth -c key=value` passes them: strings
    ({ stack, template } = synthFromContext({
      prefix: 'acme',
      maxConcurrency: '50',
      provisionedPollers: '{"order.notification":{"minimum":20}}',
    }));
  });

  it('names the resources with the prefix and applies the concurrency', () => {
    for (const taskType of builtInRegistry.taskTypes) {
      // THEN
      const normal = `acme-${taskType.replace('.', '-')}-normal`;
      expect(
        mappingOf(template, queueId(template, normal)).ScalingConfig,
      ).toEqual({
        MaximumConcurrency: 50,
      });
    }
  });

  it('applies provisioned pollers to the named task type only', () => {
    // THEN
    const high = (name: string) => mappingOf(template, queueId(template, name));
    expect(
      high('acme-order-notification-high').ProvisionedPollerConfig,
    ).toEqual({
      MinimumPollers: 20,
      MaximumPollers: 200,
    });
    expect(high('acme-data-backup-high').ProvisionedPollerConfig).toEqual({
      MinimumPollers: 2,
      MaximumPollers: 200,
    });
  });

  it('warns, with a stable id, and adds no deny when the allowlist is empty', () => {
    // THEN
    const warnings = stack.pipeline.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:warning')
      .map((entry) => String(entry.data));
    expect(warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(`sender allowlist is empty.*${EMPTY_ALLOWLIST_WARNING}`),
      ),
    );
    expect(JSON.stringify(template.toJSON())).not.toContain(
      ALLOWLIST_STATEMENT_SID,
    );
  });

  it('reads lists given as comma-separated strings or arrays', () => {
    // WHEN
    const config = read({
      allowlistCidrs: '203.0.113.0/24, 2001:db8::/32',
      allowlistVpcEndpoints: ['vpce-0123456789abcdef0', 'vpce-01234567'],
      alarmEmail: 'ops@example.com',
      queueDepthThreshold: 5000,
      failureRateThresholdPercent: '0.5',
    });

    // THEN
    expect(config.allowlist).toEqual({
      cidrs: ['203.0.113.0/24', '2001:db8::/32'],
      vpcEndpointIds: ['vpce-0123456789abcdef0', 'vpce-01234567'],
    });
    expect(config.alarmEmail).toBe('ops@example.com');
    expect(config.thresholds).toMatchObject({
      queueDepth: 5000,
      failureRatePercent: 0.5,
    });
  });

  it('leaves every setting at its default when no key is set', () => {
    // WHEN
    const config = read({});

    // THEN
    expect(config).toMatchObject({
      prefix: 'tasklane',
      allowlist: { cidrs: [], vpcEndpointIds: [] },
    });
    expect(config.maxConcurrency).toBeUndefined();
    expect(config.provisionedPollers).toBeUndefined();
  });
});

describe('invalid configuration fails synth with key, range and value', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'prefix',
      { prefix: 'Tasklane!' },
      /^context key prefix must be 1-20 lower-case letters, digits or dashes starting with a letter \(got "Tasklane!"\)$/,
    ],
    [
      'allowlistCidrs',
      { allowlistCidrs: '203.0.113.0/24,10.0.0.0/33' },
      /^context key allowlistCidrs must hold CIDR ranges such as 203\.0\.113\.0\/24 or 2001:db8::\/32 \(got "10\.0\.0\.0\/33"\)$/,
    ],
    [
      'allowlistCidrs (address)',
      { allowlistCidrs: ['300.1.1.1/24'] },
      /^context key allowlistCidrs must hold CIDR ranges .* \(got "300\.1\.1\.1\/24"\)$/,
    ],
    [
      'allowlistVpcEndpoints',
      { allowlistVpcEndpoints: 'vpc-0123456789abcdef0' },
      /^context key allowlistVpcEndpoints must hold VPC endpoint ids such as vpce-0123456789abcdef0 \(got "vpc-0123456789abcdef0"\)$/,
    ],
    [
      'alarmEmail',
      { alarmEmail: 'ops-at-example' },
      /^context key alarmEmail must be an e-mail address such as ops@example\.com \(got "ops-at-example"\)$/,
    ],
    [
      'maxConcurrency',
      { maxConcurrency: 1 },
      /^context key maxConcurrency must be a whole number of concurrent executions from 2 to 1000 \(got 1\)$/,
    ],
    [
      'maxConcurrency per task type',
      { maxConcurrency: { 'order.notification': 5000 } },
      /^context key maxConcurrency\.order\.notification must be a whole number of concurrent executions from 2 to 1000 \(got 5000\)$/,
    ],
    [
      'maxConcurrency task type',
      { maxConcurrency: '{"invoice.send": 5}' },
      /^context key maxConcurrency names task type "invoice\.send", which is not in the registry \(known: order\.notification, data\.backup\)$/,
    ],
    [
      'maxConcurrency JSON',
      { maxConcurrency: '{"order.notification": ' },
      /^context key maxConcurrency is not valid JSON \(got "\{\\"order\.notification\\": "\)$/,
    ],
    [
      'provisionedPollers',
      { provisionedPollers: 1 },
      /^context key provisionedPollers\.minimum must be a whole number of event pollers from 2 to 200 \(got 1\)$/,
    ],
    [
      'provisionedPollers maximum',
      { provisionedPollers: { 'data.backup': { maximum: 5000 } } },
      /^context key provisionedPollers\.data\.backup\.maximum must be a whole number of event pollers from 2 to 2000 \(got 5000\)$/,
    ],
    [
      'provisionedPollers order',
      { provisionedPollers: { minimum: 50, maximum: 20 } },
      /^context key provisionedPollers\.maximum must be a whole number of event pollers from 50 \(the minimum\) to 2000 \(got 20\)$/,
    ],
    [
      'queueDepthThreshold',
      { queueDepthThreshold: 20000 },
      /^context key queueDepthThreshold must be a whole number of messages from 1 to 10000 \(got 20000\)$/,
    ],
    [
      'queueDepthThreshold above queueCapacity',
      { queueCapacity: '5000', queueDepthThreshold: '9000' },
      /^context key queueDepthThreshold must be a whole number of messages from 1 to 5000 \(got 9000\)$/,
    ],
    [
      'latencyThresholdMs',
      { latencyThresholdMs: 'fast' },
      /^context key latencyThresholdMs must be a whole number of milliseconds from 1 to 900000 \(got "fast"\)$/,
    ],
    [
      'failureRateThresholdPercent',
      { failureRateThresholdPercent: 150 },
      /^context key failureRateThresholdPercent must be a number of percent from 0\.01 to 100 \(got 150\)$/,
    ],
    [
      'queueCapacity',
      { queueCapacity: 10001 },
      /^context key queueCapacity must be a whole number of messages from 1 to 10000 \(got 10001\)$/,
    ],
  ];

  it.each(cases)('%s', (_name, context, message) => {
    // WHEN / THEN
    expect(() =>
      createTasklaneApp({ context: { ...NO_BUNDLING, ...context } }),
    ).toThrow(message);
  });

  it('checks props given to the construct directly as well', () => {
    // WHEN / THEN
    expect(() => buildPipeline({ queueCapacity: 0 })).toThrow(
      /^TaskPipeline prop queueCapacity must be a whole number of messages from 1 to 10000 \(got 0\)$/,
    );
    expect(() =>
      buildPipeline({
        provisionedPollers: { 'order.notification': { minimum: 300 } },
      }),
    ).toThrow(
      /provisionedPollers\.order\.notification\.minimum .* from 2 to 200 \(got 300\)/,
    );
  });
});
