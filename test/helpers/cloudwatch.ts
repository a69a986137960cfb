/**
 * A CloudWatch client for `tasklane stats` in tests: every request is
 * recorded and answered by a script at the first middleware step, so
 * nothing is signed or sent.
 */
import {
  CloudWatchClient,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { CloudWatchFactory } from '../../lib/cli/stats-command.ts';
import type { TargetOptions } from '../../lib/cli/target.ts';
import type { AwsRequest } from './control-cli.ts';

/** Answers GetMetricData; may throw to fail the request. */
export type MetricDataAnswer = (
  input: GetMetricDataCommandInput,
) => Partial<GetMetricDataCommandOutput>;

/**
 * A CloudWatch factory whose clients answer GetMetricData with `answer`,
 * recording the target options each was made for and every request.
 */
export function scriptedCloudWatch(answer: MetricDataAnswer) {
  const requests: AwsRequest[] = [];
  const options: TargetOptions[] = [];
  const factory: CloudWatchFactory = (given) => {
    options.push(given);
    const client = new CloudWatchClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const command = context.commandName ?? '';
        requests.push({ command, input: structuredClone(args.input) });
        if (command !== 'GetMetricDataCommand') {
          throw new Error(`the script has no answer to ${command}`);
        }
        const output = answer(args.input as GetMetricDataCommandInput);
        return { output: { $metadata: {}, ...output }, response: {} };
      },
      { step: 'initialize', name: 'scriptedCloudWatch' },
    );
    return client;
  };
  return { factory, options, requests };
}

/** What GetMetricData answers for one query. */
export const datapoints = (
  Id: string,
  points: readonly [string, number][],
): MetricDataResult => ({
  Id,
  Label: 'ApproximateAgeOfOldestMessage',
  Timestamps: points.map(([at]) => new Date(at)),
  Values: points.map(([, seconds]) => seconds),
  StatusCode: 'Complete',
});
