import { describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/callbacks/dispatcher.ts';
import { createAwsClients } from '../../lib/aws-clients.ts';
import {
  CALLBACK_ENV,
  dispatcherFromEnv,
  notifierFromEnv,
} from '../../lib/callbacks/env.ts';
import { createLambdaContext } from '../../lib/local/lambda-context.ts';

const ENV = {
  [CALLBACK_ENV.statusOutboxTable]: 'tasklane-status-outbox',
  [CALLBACK_ENV.targetsTable]: 'tasklane-callback-targets',
  [CALLBACK_ENV.deadLetterQueueUrl]:
    'https://sqs.eu-west-1.amazonaws.com/1/tasklane-callbacks-dlq',
  [CALLBACK_ENV.scheduleGroup]: 'tasklane',
  [CALLBACK_ENV.schedulerRoleArn]: 'arn:aws:iam::1:role/scheduler',
  [CALLBACK_ENV.secretArn]: 'arn:aws:secretsmanager:eu-west-1:1:secret:cb',
  [CALLBACK_ENV.interval]: '90s',
  [CALLBACK_ENV.maxAge]: '12h',
  [CALLBACK_ENV.allowedHosts]: 'hooks.example.com, *.shop.example',
};

// Clients are only built here, never called: nothing reaches AWS.
const clients = createAwsClients({ region: 'eu-west-1' });

describe('callback settings from the environment', () => {
  it('builds the dispatcher with the timing it names', () => {
    // Act
    const dispatcher = dispatcherFromEnv(
      ENV,
      clients,
      'arn:aws:lambda:eu-west-1:1:function:dispatcher',
    );

    // Assess
    expect(dispatcher.timing).toMatchObject({
      intervalMs: 90_000,
      maxAgeMs: 43_200_000,
    });
  });

  it('names the variable that is missing', () => {
    // Prepare
    const env = { ...ENV, [CALLBACK_ENV.targetsTable]: undefined };

    // Act / Assess
    expect(() => notifierFromEnv(env, clients)).toThrow(
      /TASKLANE_CALLBACK_TARGETS_TABLE is not set/,
    );
  });

  it('needs the dispatcher ARN where the function cannot name itself', () => {
    // Act / Assess
    expect(() => notifierFromEnv(ENV, clients)).toThrow(
      /TASKLANE_CALLBACK_DISPATCHER_ARN is not set/,
    );
  });

  it('refuses an event without a target', async () => {
    // Prepare
    const context = createLambdaContext({
      functionName: 'dispatcher',
      timeoutMs: 10_000,
    });

    // Act
    const result = handler({} as never, context);

    // Assess
    await expect(result).rejects.toMatchObject({ code: 'INVALID_EVENT' });
  });
});
