/**
 * Lambda entry of the daily upkeep. A schedule invokes it once a day with
 * no input: it summarises the previous UTC day and cleans the dead-letter
 * queues the stack names in the environment. Invoked by hand with
 * `{ "since": "...", "until": "..." }`, it summarises that window instead.
 *
 * @example
 * aws lambda invoke --function-name <upkeep function> \
 *   --cli-binary-format raw-in-base64-out \
 *   --payload '{"since":"2026-12-01T00:00:00Z","until":"2026-12-02T00:00:00Z"}' out.json
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createAwsClients } from '../../lib/aws-clients.ts';
import { readUpkeepConfig } from '../../lib/ops/upkeep-config.ts';
import {
  runUpkeep,
  type UpkeepReport,
  type UpkeepRequest,
} from '../../lib/ops/upkeep-run.ts';

const logger = new Logger({ serviceName: 'tasklane' });
const config = readUpkeepConfig(process.env);
const clients = createAwsClients();

/** The window fields of the event, when a person passed them. */
function requestOf(event: unknown): UpkeepRequest {
  if (event === null || typeof event !== 'object') return {};
  const { since, until } = event as Record<string, unknown>;
  return {
    ...(typeof since === 'string' && { since }),
    ...(typeof until === 'string' && { until }),
  };
}

const upkeep = (event: unknown): Promise<UpkeepReport> =>
  runUpkeep(config, { ...clients, logger }, requestOf(event));

export const handler = middy(upkeep).use(injectLambdaContext(logger));
