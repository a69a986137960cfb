/** A stack with the daily upkeep over fake lanes, for template tests. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import {
  PipelineUpkeep,
  type PipelineUpkeepProps,
} from '../../lib/infra/upkeep.ts';
import { fakeLane } from './monitoring-stack.ts';
import { NO_BUNDLING } from './pipeline-stack.ts';

export const TYPES = ['order.notification', 'data.backup'];

/** A stack with the upkeep over fake lanes, table, topic and buckets. */
export function build(
  props: Partial<PipelineUpkeepProps> = {},
  app = new App({ context: CONTEXT }),
) {
  const stack = new Stack(app, 'Test', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const key = new kms.Key(stack, 'Key');
  const deps = {
    prefix: 'tl',
    lanes: TYPES.map((type) => fakeLane(stack, type)),
    statusOutboxTable: new dynamodb.Table(stack, 'Outbox', {
      partitionKey: { name: 'taskId', type: dynamodb.AttributeType.STRING },
    }),
    alarmTopic: new sns.Topic(stack, 'Alarms'),
    key,
    accessLogBucket: new s3.Bucket(stack, 'AccessLogs'),
  };
  const upkeep = new PipelineUpkeep(stack, 'Upkeep', { ...deps, ...props });
  /** The logical id of a construct's resource in the stack. */
  const idOf = (construct: IConstruct) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return { app, stack, upkeep, deps, idOf };
}

export const CONTEXT = {
  ...NO_BUNDLING,
  [S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY]: true,
};

export type Statement = { Action: string | string[]; Resource: unknown };

/** Every statement of the upkeep's role policies, by role. */
export function statementsOf(
  template: Template,
  rolePrefix: string,
): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  return policies
    .filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${rolePrefix}`),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** A finding of cdk-nag or cfn-guard, as the validation report lists it. */
export interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs?: readonly { constructPath?: string }[];
}

/**
 * Synthesises the upkeep under the validation plugins the tasklane app
 * runs and returns every finding. The fake lanes, table and buckets have
 * findings of their own, so synth fails; the report still lists them all.
 */
export function validationFindings(): Violation[] {
  const outdir = mkdtempSync(join(tmpdir(), 'tasklane-upkeep-'));
  try {
    const app = new App({ context: CONTEXT, outdir });
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new CfnGuardValidator(),
    );
    build({}, app);
    try {
      app.synth();
    } catch {
      // Expected: the fakes' findings fail synth.
    }
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: { violations: Violation[] }[] };
    return report.pluginReports.flatMap((r) => r.violations);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
