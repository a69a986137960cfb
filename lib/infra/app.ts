import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { builtInRegistry } from '../../lambdas/tasks/index.ts';
import type { TaskRegistry } from '../registry.ts';
import { readPipelineConfig } from './config.ts';
import { TasklaneStack } from './stack.ts';

/** Options of the tasklane CDK app. */
export interface TasklaneAppOptions {
  /** Context in addition to cdk.json and `-c`. @default - none */
  readonly context?: AppProps['context'];
  /** Where the cloud assembly goes. @default - as the CDK CLI says */
  readonly outdir?: string;
  /** @default builtInRegistry */
  readonly registry?: TaskRegistry;
}

/**
 * The tasklane app: one stack from the context configuration, checked at
 * synth by cdk-nag's AwsSolutions pack and the Control Tower proactive
 * controls (cfn-guard). Unacknowledged findings fail synth.
 */
export function createTasklaneApp(options: TasklaneAppOptions = {}) {
  const app = new App({
    context: options.context,
    outdir: options.outdir,
  });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new CfnGuardValidator(),
  );

  const pipeline = readPipelineConfig(
    app.node,
    options.registry ?? builtInRegistry,
  );
  const stack = new TasklaneStack(app, 'Tasklane', {
    stackName: `${pipeline.prefix}-pipeline`,
    description: 'tasklane: serverless pipeline for asynchronous tasks',
    pipeline,
  });
  return { app, stack };
}
