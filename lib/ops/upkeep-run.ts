/**
 * One daily upkeep run (R22): summarise the last day into a log line and
 * the alarm topic, then clean the invalid tasks out of the dead-letter
 * queues.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queueNameOf } from '../queue-names.ts';
import {
  type DailySummary,
  formatSummary,
  previousUtcDay,
  type SummaryWindow,
  summariseDay,
  summaryDate,
} from './daily-summary.ts';
import type { UpkeepConfig } from './upkeep-config.ts';
import {
  type SweepResult,
  sweepDeadLetterQueue,
} from './upkeep-dead-letters.ts';
import { UpkeepConfigError, UpkeepIncompleteError } from './upkeep-errors.ts';

/** The clients and logger a run uses. */
export interface UpkeepDeps {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  readonly logger: Pick<Logger, 'info' | 'error'>;
}

/**
 * What a run is asked, all optional: the scheduled run passes nothing and
 * summarises the previous UTC day. A manual run may name another window,
 * such as a day to summarise again.
 */
export interface UpkeepRequest {
  /** Start of the window, ISO-8601. @default - 00:00 UTC yesterday */
  readonly since?: string;
  /** End of the window, excluded. @default - 00:00 UTC today */
  readonly until?: string;
  /** The run's time, for the age limit and the archive's date. @default - now */
  readonly now?: Date;
}

/** What a run did. */
export interface UpkeepReport {
  readonly summary: DailySummary;
  /** One result per dead-letter queue, in the configured order. */
  readonly deadLetters: readonly SweepResult[];
}

/** Value of the `tasklane.kind` attribute of the published summary. */
export const SUMMARY_KIND = 'daily-summary';

/**
 * Runs the upkeep. A queue that cannot be cleaned does not stop the
 * others; the run then ends with UpkeepIncompleteError, after the summary
 * has been published and the other queues cleaned.
 *
 * @example
 * const report = await runUpkeep(readUpkeepConfig(process.env), {
 *   ...createAwsClients(),
 *   logger: new Logger({ serviceName: 'tasklane' }),
 * });
 */
export async function runUpkeep(
  config: UpkeepConfig,
  deps: UpkeepDeps,
  request: UpkeepRequest = {},
): Promise<UpkeepReport> {
  const now = request.now ?? new Date();
  const summary = await summariseDay({
    dynamodb: deps.dynamodb,
    outboxTable: config.statusOutboxTable,
    ...windowOf(request, now),
  });
  deps.logger.info('daily summary', { summary });
  await publishSummary(deps.sns, config.alarmTopicArn, summary);

  const deadLetters = await cleanDeadLetterQueues(config, deps, now);
  return { summary, deadLetters };
}

/** The requested window, or the previous UTC day. */
export function windowOf(request: UpkeepRequest, now: Date): SummaryWindow {
  if (request.since === undefined && request.until === undefined) {
    return previousUtcDay(now);
  }
  const since = parseTime('since', request.since);
  const until = parseTime('until', request.until);
  if (since >= until) {
    throw new UpkeepConfigError('until', 'must be after since', request.until);
  }
  return { since, until };
}

function parseTime(field: string, value: string | undefined): Date {
  const time = Date.parse(value ?? '');
  if (!Number.isFinite(time)) {
    throw new UpkeepConfigError(field, 'must be an ISO-8601 date-time', value);
  }
  return new Date(time);
}

/**
 * The line for people, then the figures as JSON for programs. The
 * `tasklane.kind` attribute lets a subscription filter summaries from
 * alarm notifications.
 */
async function publishSummary(
  sns: SNSClient,
  topicArn: string,
  summary: DailySummary,
): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: `tasklane daily summary ${summaryDate(summary)}`,
      Message: `${formatSummary(summary)}\n\n${JSON.stringify(summary)}`,
      MessageAttributes: {
        'tasklane.kind': { DataType: 'String', StringValue: SUMMARY_KIND },
      },
    }),
  );
}

async function cleanDeadLetterQueues(
  config: UpkeepConfig,
  deps: UpkeepDeps,
  now: Date,
): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const failures: { queue: string; error: string }[] = [];
  for (const queueUrl of config.deadLetterQueueUrls) {
    try {
      const result = await sweepDeadLetterQueue({
        sqs: deps.sqs,
        s3: deps.s3,
        queueUrl,
        archiveBucket: config.archiveBucket,
        maxAgeDays: config.maxInvalidAgeDays,
        now,
      });
      deps.logger.info('dead-letter queue cleaned', { ...result });
      results.push(result);
    } catch (error) {
      const queue = queueNameOf(queueUrl);
      deps.logger.error('dead-letter queue not cleaned', { queue, error });
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ queue, error: message });
    }
  }
  if (failures.length > 0) throw new UpkeepIncompleteError(failures);
  return results;
}
