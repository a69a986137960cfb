/**
 * Key layout of the tables, shared by the stack, the local runtime and the
 * code that reads them.
 */

/** Powertools idempotency records, keyed by the envelope id. */
export const IDEMPOTENCY_KEY = 'id';
export const IDEMPOTENCY_TTL = 'expiration';

/**
 * The status outbox: one item per task, keyed by task id, holding its
 * attempts and errors while it runs and its one final status once it ends.
 * Items whose status still waits for a callback carry `pendingTarget`, which
 * puts them in a sparse index by callback target, oldest first.
 */
export const OUTBOX_KEY = 'taskId';
export const OUTBOX_TTL = 'expiresAt';
export const OUTBOX_PENDING_INDEX = 'pending-by-target';
export const OUTBOX_PENDING_TARGET = 'pendingTarget';
export const OUTBOX_FINISHED_AT = 'finishedAt';

/**
 * Callback targets: one item per callback URL, keyed by the URL, holding
 * the throttle's state (last delivery, pending delivery, back-off) and the
 * lease of the dispatcher that is delivering to it.
 */
export const CALLBACK_TARGETS_KEY = 'target';

/** Demo and test orders for `order.notification`, keyed by order id. */
export const ORDERS_KEY = 'orderId';
