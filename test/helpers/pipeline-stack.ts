/** A tasklane stack for template assertions, and readers of its template. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import { readPipelineConfig } from '../../lib/infra/config.ts';
import { TasklaneStack } from '../../lib/infra/stack.ts';
import type { TaskPipelineProps } from '../../lib/infra/task-pipeline.ts';

/** Skips esbuild: template assertions do not need the bundled code. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export const ALLOWLIST = {
  cidrs: ['203.0.113.0/24', '2001:db8::/32'],
  vpcEndpointIds: ['vpce-0123456789abcdef0'],
};

/** A stack of the built-in task types, from props, without validations. */
export function buildPipeline(props: TaskPipelineProps = {}): TasklaneStack {
  const app = new App({ context: NO_BUNDLING });
  return new TasklaneStack(app, 'Test', {
    pipeline: { registry: builtInRegistry, ...props },
  });
}

/** `buildPipeline`, synthesised. */
export function synthPipeline(props: TaskPipelineProps = {}) {
  const stack = buildPipeline(props);
  return { stack, template: Template.fromStack(stack) };
}

/**
 * The stack from context, as `cdk synth -c ...` builds it, without the
 * validation plugins (checks.test.ts runs those).
 */
export function synthFromContext(context: Record<string, unknown>) {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const pipeline = readPipelineConfig(app.node, builtInRegistry);
  const stack = new TasklaneStack(app, 'Tasklane', { pipeline });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Properties: Record<string, unknown> }>;

/** Resources of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of the queue with this name. */
export function queueId(template: Template, name: string): string {
  const found = Object.entries(resourcesOf(template, 'AWS::SQS::Queue')).find(
    ([, queue]) => queue.Properties.QueueName === name,
  );
  if (!found) throw new Error(`no queue ${name} in the template`);
  return found[0];
}

/** The policy statements that apply to the queue with this logical id. */
export function queueStatements(template: Template, id: string) {
  const policies = Object.values(
    resourcesOf(template, 'AWS::SQS::QueuePolicy'),
  ).filter((policy) =>
    (policy.Properties.Queues as unknown[]).some(
      (q) => JSON.stringify(q) === JSON.stringify({ Ref: id }),
    ),
  );
  return policies.flatMap(
    (policy) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] })
        .Statement,
  );
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

/** The mapping of the queue with this logical id. */
export function mappingOf(template: Template, queueLogicalId: string) {
  const found = Object.values(
    resourcesOf(template, 'AWS::Lambda::EventSourceMapping'),
  ).find(
    (mapping) =>
      JSON.stringify(mapping.Properties.EventSourceArn) ===
      JSON.stringify({ 'Fn::GetAtt': [queueLogicalId, 'Arn'] }),
  );
  if (!found) throw new Error(`no mapping of ${queueLogicalId}`);
  return found.Properties;
}
