import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { TaskPipeline, type TaskPipelineProps } from './task-pipeline.ts';

/** Props of the tasklane stack. */
export interface TasklaneStackProps extends StackProps {
  /** The pipeline's settings, as `readPipelineConfig` makes them. */
  readonly pipeline: TaskPipelineProps;
}

/**
 * The deployable unit: one `TaskPipeline` and the outputs an operator or a
 * producer needs, the queue URLs, table names and, once ingress is part of
 * the pipeline, the bus and the HTTPS endpoint.
 */
export class TasklaneStack extends Stack {
  readonly pipeline: TaskPipeline;

  constructor(scope: Construct, id: string, props: TasklaneStackProps) {
    super(scope, id, props);
    this.pipeline = new TaskPipeline(this, 'Pipeline', props.pipeline);
    this.outputLanes();
    this.outputTables();
    this.outputIngress();
  }

  private outputLanes(): void {
    for (const lane of this.pipeline.lanes) {
      const id = lane.node.id;
      const output = (name: string, value: string, what: string) =>
        new CfnOutput(this, `${id}${name}`, {
          value,
          description: `${what} of ${lane.taskType} tasks`,
        });
      output('HighQueueUrl', lane.queues.high.queueUrl, 'High-priority queue');
      output('NormalQueueUrl', lane.queues.normal.queueUrl, 'Normal queue');
      output(
        'DeadLetterQueueUrl',
        lane.deadLetterQueue.queueUrl,
        'Dead-letter queue',
      );
    }
  }

  private outputTables(): void {
    const { pipeline } = this;
    const tables = {
      IdempotencyTableName: pipeline.idempotencyTable.tableName,
      StatusOutboxTableName: pipeline.statusOutboxTable.tableName,
      OrdersTableName: pipeline.ordersTable.tableName,
    };
    for (const [id, value] of Object.entries(tables)) {
      new CfnOutput(this, id, { value });
    }
    new CfnOutput(this, 'BackupBucketName', {
      value: pipeline.backupBucket.bucketName,
    });
  }

  /** The bus and the REST API, when the pipeline has them. */
  private outputIngress(): void {
    const all = this.pipeline.node.findAll();
    for (const bus of all.filter((c) => c instanceof events.EventBus)) {
      new CfnOutput(this, 'EventBusName', {
        value: (bus as events.EventBus).eventBusName,
        description: 'Bus that producers PutEvents task events onto',
      });
    }
    for (const api of all.filter((c) => c instanceof apigateway.RestApiBase)) {
      new CfnOutput(this, 'HttpsEndpoint', {
        value: (api as apigateway.RestApiBase).url,
        description: 'HTTPS endpoint for producers outside AWS',
      });
    }
  }
}
