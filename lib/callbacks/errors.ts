import { TasklaneError } from '../errors.ts';

/** Base of the errors the callback delivery raises. */
export class CallbackError extends TasklaneError {}

/** Why a callback target is refused before anything is sent to it. */
export type RefusalReason =
  | 'INVALID_URL'
  | 'INSECURE_SCHEME'
  | 'HOST_NOT_ALLOWED'
  | 'ADDRESS_NOT_PUBLIC';

/**
 * The callback target may not be called: bad URL, plain http outside local
 * mode, a host off the allowlist, or a host that resolves to an address
 * that is not public. Never retried: its statuses are dead-lettered.
 */
export class TargetRefusedError extends CallbackError {
  readonly target: string;
  readonly reason: RefusalReason;
  /** The offending address, when the refusal is about one. */
  readonly address?: string;

  constructor(
    target: string,
    reason: RefusalReason,
    detail: string,
    address?: string,
  ) {
    super('TARGET_REFUSED', `callback target refused (${reason}): ${detail}`);
    this.target = target;
    this.reason = reason;
    this.address = address;
  }
}

/** Why one delivery attempt failed; each is retried in a later slot. */
export type DeliveryFailure =
  | 'TARGET_UNRESOLVED'
  | 'DELIVERY_TIMEOUT'
  | 'DELIVERY_NETWORK_ERROR'
  | 'DELIVERY_REJECTED';

/** A delivery attempt did not get a 2xx answer. */
export class DeliveryFailedError extends CallbackError {
  /** The receiver's HTTP status, when it answered. */
  readonly status?: number;

  constructor(
    code: DeliveryFailure,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.status = options.status;
  }
}

/** The signing secret is missing or not of the expected shape. */
export class CallbackSecretError extends CallbackError {
  constructor(message: string, options?: ErrorOptions) {
    super('CALLBACK_SECRET_INVALID', message, options);
  }
}

/**
 * Another dispatcher took over the target while this one still worked on
 * it, because this one outlived its lease; its remaining writes are
 * dropped.
 */
export class LeaseLostError extends CallbackError {
  constructor(target: string) {
    super('LEASE_LOST', `lost the delivery lease of ${target}`);
  }
}

/** A duration option is not a positive number of milliseconds. */
export class InvalidDurationError extends CallbackError {
  constructor(field: string, value: unknown) {
    super(
      'INVALID_DURATION',
      `${field} must be a duration such as 500ms, 2s or 1m ` +
        `(got ${JSON.stringify(value)})`,
    );
  }
}
