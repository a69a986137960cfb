/**
 * Where the callback signing key comes from: Secrets Manager on AWS, an
 * environment variable locally.
 */
import { randomBytes } from 'node:crypto';
import {
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { CallbackSecretError } from './errors.ts';

/** The key requests are signed with; `keyId` travels in the header. */
export interface SigningKey {
  readonly keyId: string;
  readonly secret: string;
}

/** Hands out the current signing key. */
export interface SecretSource {
  current(): Promise<SigningKey>;
}

/** A source that always gives the same key. */
export function staticSecretSource(key: SigningKey): SecretSource {
  return { current: async () => key };
}

const secretShape = z.object({
  keyId: z.string().min(1).max(128),
  secret: z.string().min(16),
});

export interface SecretsManagerSourceOptions {
  readonly client: SecretsManagerClient;
  /** Name or ARN of the secret, whose value is `{"keyId","secret"}`. */
  readonly secretId: string;
  /**
   * How long a read key is used before it is read again, so a rotation
   * reaches every dispatcher within this time. @default 300_000
   */
  readonly cacheMs?: number;
  readonly clock?: () => number;
}

/**
 * The key from AWS Secrets Manager (GetSecretValue), cached. Throws
 * CallbackSecretError when the value is not `{"keyId","secret"}` with a
 * secret of at least 16 characters; the message never holds the value.
 */
export function secretsManagerSource(
  options: SecretsManagerSourceOptions,
): SecretSource {
  const cacheMs = options.cacheMs ?? 300_000;
  const clock = options.clock ?? Date.now;
  let cached: { key: SigningKey; until: number } | undefined;

  return {
    async current() {
      if (cached && clock() < cached.until) return cached.key;
      const { SecretString } = await options.client.send(
        new GetSecretValueCommand({ SecretId: options.secretId }),
      );
      const key = parseSecret(options.secretId, SecretString);
      cached = { key, until: clock() + cacheMs };
      return key;
    },
  };
}

function parseSecret(secretId: string, value: string | undefined) {
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch (cause) {
    throw new CallbackSecretError(
      `secret ${secretId} is not JSON with keyId and secret`,
      { cause },
    );
  }
  const parsed = secretShape.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.'));
    throw new CallbackSecretError(
      `secret ${secretId} needs keyId (1-128 characters) and secret ` +
        `(at least 16 characters); wrong: ${fields.join(', ')}`,
    );
  }
  return parsed.data;
}

/** The variables the local key is read from. */
export const LOCAL_SECRET_ENV = {
  secret: 'TASKLANE_CALLBACK_SECRET',
  keyId: 'TASKLANE_CALLBACK_KEY_ID',
} as const;

/**
 * The local signing key: TASKLANE_CALLBACK_SECRET, with the key id from
 * TASKLANE_CALLBACK_KEY_ID (default `local`). When the secret is unset a
 * random one is made and printed, so that the receiver under test can be
 * given it; set the variable to keep it across runs.
 */
export function localSigningKey(
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = console.log,
): SigningKey {
  const keyId = env[LOCAL_SECRET_ENV.keyId] || 'local';
  const secret = env[LOCAL_SECRET_ENV.secret];
  if (secret) return { keyId, secret };

  const generated = randomBytes(32).toString('hex');
  print(
    `callback signing secret (key id ${keyId}): ${generated}\n` +
      `  set ${LOCAL_SECRET_ENV.secret} to keep it across runs`,
  );
  return { keyId, secret: generated };
}
