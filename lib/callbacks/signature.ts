/**
 * Signing of callback requests, and its check for receivers.
 *
 * A request carries `X-Tasklane-Signature: t=<unix seconds>,kid=<key id>,
 * v1=<hex>`, where v1 is HMAC-SHA256, keyed by the secret named by kid,
 * over `<t>.<raw body>`. The key id lets a deployment rotate its secret:
 * receivers keep the old and the new secret until the old one is retired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CallbackError } from './errors.ts';

/** The header that carries the signature. */
export const SIGNATURE_HEADER = 'X-Tasklane-Signature';

/** How far a request's timestamp may be from the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const KEY_ID_PATTERN = /^[A-Za-z0-9._:/-]{1,128}$/;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** The raw body exactly as sent or received: text or bytes. */
export type RawBody = string | Uint8Array;

/**
 * Signs a request body and returns the value of `X-Tasklane-Signature`.
 * Throws when the key id holds characters the header cannot carry.
 *
 * @param now the signing time in milliseconds. @default Date.now()
 */
export function signCallback(
  body: RawBody,
  secret: string,
  keyId: string,
  now: number = Date.now(),
): string {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new CallbackError(
      'INVALID_KEY_ID',
      `key id must be 1-128 letters, digits or . _ : / - ` +
        `(got ${JSON.stringify(keyId)})`,
    );
  }
  const timestamp = Math.floor(now / 1000);
  return `t=${timestamp},kid=${keyId},v1=${digest(body, secret, timestamp)}`;
}

/** What a receiver passes to `verifyCallback`. */
export interface VerifyInput {
  /** The raw body, before any JSON parsing. */
  readonly body: RawBody;
  /** The value of `X-Tasklane-Signature`. */
  readonly header: string | undefined;
  /** Every secret the receiver accepts, by key id. */
  readonly secrets: Readonly<Record<string, string>>;
  /** @default 300 */
  readonly toleranceSeconds?: number;
  /** The receiver's clock in milliseconds. @default Date.now() */
  readonly now?: number;
}

/** Why `verifyCallback` refused a request. */
export type SignatureRefusal =
  | 'MISSING_SIGNATURE'
  | 'MALFORMED_SIGNATURE'
  | 'UNKNOWN_KEY_ID'
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  | 'SIGNATURE_MISMATCH';

/** The verdict on one request; never thrown, so receivers branch on it. */
export type VerifyResult =
  | { readonly valid: true; readonly keyId: string; readonly timestamp: number }
  | { readonly valid: false; readonly reason: SignatureRefusal };

/**
 * Checks a callback request, in constant time where it matters (the
 * digest). Returns a verdict with the reason instead of throwing.
 *
 * @example
 * const verdict = verifyCallback({
 *   body: rawBody,
 *   header: request.headers['x-tasklane-signature'],
 *   secrets: { [keyId]: secret },
 * });
 * if (!verdict.valid) return reply(401, verdict.reason);
 */
export function verifyCallback(input: VerifyInput): VerifyResult {
  if (!input.header) return refuse('MISSING_SIGNATURE');
  const parts = parseHeader(input.header);
  if (!parts) return refuse('MALFORMED_SIGNATURE');

  const secret = Object.hasOwn(input.secrets, parts.keyId)
    ? input.secrets[parts.keyId]
    : undefined;
  if (secret === undefined) return refuse('UNKNOWN_KEY_ID');

  const nowSeconds = (input.now ?? Date.now()) / 1000;
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - parts.timestamp) > tolerance) {
    return refuse('TIMESTAMP_OUT_OF_TOLERANCE');
  }

  const expected = Buffer.from(
    digest(input.body, secret, parts.timestamp),
    'hex',
  );
  const given = Buffer.from(parts.digest, 'hex');
  if (!timingSafeEqual(expected, given)) return refuse('SIGNATURE_MISMATCH');
  return { valid: true, keyId: parts.keyId, timestamp: parts.timestamp };
}

function digest(body: RawBody, secret: string, timestamp: number): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(body)
    .digest('hex');
}

interface HeaderParts {
  readonly timestamp: number;
  readonly keyId: string;
  readonly digest: string;
}

function parseHeader(header: string): HeaderParts | undefined {
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 1) return undefined;
    fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const t = fields.get('t') ?? '';
  const keyId = fields.get('kid') ?? '';
  const v1 = fields.get('v1') ?? '';
  if (!/^\d{1,12}$/.test(t) || !KEY_ID_PATTERN.test(keyId)) return undefined;
  if (!DIGEST_PATTERN.test(v1)) return undefined;
  return { timestamp: Number(t), keyId, digest: v1 };
}

function refuse(reason: SignatureRefusal): VerifyResult {
  return { valid: false, reason };
}
