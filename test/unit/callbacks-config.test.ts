import {
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import {
  backoffMs,
  parseDuration,
  resolveTiming,
} from '../../lib/callbacks/config.ts';
import {
  localSigningKey,
  secretsManagerSource,
} from '../../lib/callbacks/secrets.ts';
import { nextSlot } from '../../lib/callbacks/targets.ts';

describe('callback timing', () => {
  it('defaults to one request a minute', () => {
    // Act
    const timing = resolveTiming();

    // Assess
    expect(timing).toMatchObject({
      intervalMs: 60_000,
      maxBatch: 1000,
      maxAgeMs: 86_400_000,
    });
  });

  it('backs off from the interval, doubling up to the limit', () => {
    // Prepare
    const timing = resolveTiming({ intervalMs: 60_000, maxBackoffMs: 600_000 });

    // Act
    const waits = [1, 2, 3, 4, 5, 6, 20].map((n) => backoffMs(timing, n));

    // Assess
    expect(waits).toEqual([
      60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000,
    ]);
  });

  it('never backs off to less than the interval', () => {
    // Prepare
    const timing = resolveTiming({ intervalMs: 60_000, maxBackoffMs: 1_000 });

    // Act / Assess
    expect(backoffMs(timing, 3)).toBe(60_000);
  });

  it('runs an idle target now and a busy one at its next slot', () => {
    // Prepare
    const now = 1_000_000;

    // Act
    const idle = nextSlot(
      { target: 't', lastDeliveryAt: now - 90_000 },
      now,
      60_000,
    );
    const busy = nextSlot(
      { target: 't', lastDeliveryAt: now - 10_000 },
      now,
      60_000,
    );
    const backingOff = nextSlot(
      { target: 't', lastDeliveryAt: now - 90_000, nextAttemptAt: now + 5 },
      now,
      60_000,
    );

    // Assess
    expect([idle, busy, backingOff]).toEqual([now, now + 50_000, now + 5]);
  });

  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['250', 250],
  ])('reads %s as %i ms', (text, ms) => {
    // Act / Assess
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '-1s', '2 weeks', 'fast'])(
    'refuses the duration %j',
    (text) => {
      // Act / Assess
      expect(() => parseDuration(text, '--callback-interval')).toThrow(
        /--callback-interval must be a duration/,
      );
    },
  );

  it('refuses a batch larger than 1,000 statuses', () => {
    // Act / Assess
    expect(() => resolveTiming({ maxBatch: 1001 })).toThrow(
      expect.objectContaining({ code: 'INVALID_BATCH_SIZE' }),
    );
  });
});

describe('callback signing key', () => {
  it('reads the local key from the environment', () => {
    // Prepare
    const print = vi.fn();
    const env = {
      TASKLANE_CALLBACK_SECRET: 's'.repeat(32),
      TASKLANE_CALLBACK_KEY_ID: 'dev',
    };

    // Act
    const key = localSigningKey(env, print);

    // Assess
    expect(key).toEqual({ keyId: 'dev', secret: 's'.repeat(32) });
    expect(print).not.toHaveBeenCalled();
  });

  it('makes and prints a local key when none is set', () => {
    // Prepare
    const print = vi.fn();

    // Act
    const key = localSigningKey({}, print);

    // Assess
    expect(key.keyId).toBe('local');
    expect(key.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(print).toHaveBeenCalledWith(expect.stringContaining(key.secret));
  });

  it('reads the key from Secrets Manager once per cache period', async () => {
    // Prepare: Secrets Manager exists only on AWS; a stand-in client.
    let now = 0;
    const value = { keyId: 'k-2026', secret: 'from-secrets-manager-1234' };
    const send = vi.fn(async (_command: unknown) => ({
      SecretString: JSON.stringify(value),
    }));
    const source = secretsManagerSource({
      client: { send } as unknown as SecretsManagerClient,
      secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:cb',
      cacheMs: 1_000,
      clock: () => now,
    });

    // Act
    const first = await source.current();
    now = 500;
    await source.current();
    now = 1_500;
    await source.current();

    // Assess
    expect(first).toEqual(value);
    expect(send).toHaveBeenCalledTimes(2);
    const command = send.mock.calls[0]?.[0] as unknown;
    expect(command).toBeInstanceOf(GetSecretValueCommand);
    expect((command as GetSecretValueCommand).input).toEqual({
      SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:cb',
    });
  });

  it('refuses a secret of the wrong shape without showing it', async () => {
    // Prepare
    const send = vi.fn(async () => ({ SecretString: '{"secret":"short"}' }));
    const source = secretsManagerSource({
      client: { send } as unknown as SecretsManagerClient,
      secretId: 'cb',
    });

    // Act
    const error = await source.current().catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'CALLBACK_SECRET_INVALID' });
    expect(String(error)).toMatch(/keyId, secret/);
    expect(String(error)).not.toContain('short');
  });
});
