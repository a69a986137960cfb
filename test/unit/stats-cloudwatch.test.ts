import { describe, expect, it } from 'vitest';
import { createCloudWatchClient } from '../../lib/cli/stats-command.ts';
import { cloudWatchAges } from '../../lib/ops/queue-age.ts';
import { datapoints, scriptedCloudWatch } from '../helpers/cloudwatch.ts';

/** The time the requests are made at. */
const NOW = Date.parse('2026-12-01T10:45:30.000Z');

describe('CloudWatch ages', () => {
  it("uses the target's region and profile", async () => {
    // Act
    const client = createCloudWatchClient({
      region: 'eu-west-1',
      profile: 'ops',
      stack: 'Tasklane',
      prefix: 'tasklane',
    });

    // Assess
    expect(await client.config.region()).toBe('eu-west-1');
    expect(client.config.profile).toBe('ops');
    expect(client.config.endpoint).toBeUndefined();
    client.destroy();
  });

  it('asks for 500 queues a request and follows pages', async () => {
    // Prepare: 501 queues; the first answer has a second page, which
    // repeats q0 with an older datapoint.
    const names = Array.from({ length: 501 }, (_, i) => `t-${i}-normal`);
    const cloudwatch = scriptedCloudWatch((input) =>
      input.NextToken
        ? {
            MetricDataResults: [
              datapoints('q0', [['2026-12-01T10:40:00.000Z', 99]]),
            ],
          }
        : {
            MetricDataResults: [
              datapoints('q0', [['2026-12-01T10:44:00.000Z', 7]]),
            ],
            ...(input.MetricDataQueries?.length === 500 && {
              NextToken: 'p2',
            }),
          },
    );
    const client = cloudwatch.factory({ stack: 'S', prefix: 't' });

    // Act
    const ages = await cloudWatchAges(client, names, NOW);

    // Assess
    const queries = cloudwatch.requests.map(
      (r) => (r.input as { MetricDataQueries: unknown[] }).MetricDataQueries,
    );
    expect(queries.map((q) => q.length)).toEqual([500, 500, 1]);
    expect(
      cloudwatch.requests.map(
        (r) => (r.input as { NextToken?: string }).NextToken,
      ),
    ).toEqual([undefined, 'p2', undefined]);
    expect(await ages.reader('t-0-normal')).toBe(7_000);
    expect(await ages.reader('t-500-normal')).toBe(7_000);
    expect(await ages.reader('t-1-normal')).toBeNull();
    expect(ages.source).toEqual({
      source: 'cloudwatch',
      lookbackMinutes: 15,
      asOf: '2026-12-01T10:44:00.000Z',
    });
  });
});
