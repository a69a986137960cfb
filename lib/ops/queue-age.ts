import type { AgeReader } from './stats.ts';

interface InspectedMessage {
  readonly sentTimestamp?: number;
}

/** What fauxqs's inspection endpoint returns for one queue. */
interface QueueInspection {
  readonly messages?: {
    readonly ready?: readonly InspectedMessage[];
    readonly delayed?: readonly InspectedMessage[];
    readonly inflight?: readonly { readonly message?: InspectedMessage }[];
  };
}

/** An age reader that knows no ages: SQS itself has no such attribute. */
export const unknownAge: AgeReader = async () => null;

/**
 * Reads ages from the emulator's inspection endpoint
 * (`GET /_fauxqs/queues/<name>`), which lists every message, ready, delayed
 * or in flight, without receiving any: unlike a ReceiveMessage peek it
 * leaves receive counts and visibility untouched. Another emulator, or an
 * error, gives null.
 */
export function emulatorAgeReader(
  endpoint: string,
  now: () => number = Date.now,
): AgeReader {
  return async (queueName) => {
    const url = new URL(
      `/_fauxqs/queues/${encodeURIComponent(queueName)}`,
      endpoint,
    );
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) return null;
      return oldestAgeMs((await response.json()) as QueueInspection, now());
    } catch {
      return null;
    }
  };
}

/** The age of the oldest message at `now`: 0 when empty, null if unreadable. */
export function oldestAgeMs(
  inspection: QueueInspection,
  now: number,
): number | null {
  const { messages } = inspection;
  if (!messages) return null;
  const sent = [
    ...(messages.ready ?? []),
    ...(messages.delayed ?? []),
    ...(messages.inflight ?? []).map((entry) => entry.message ?? {}),
  ].map((message) => message.sentTimestamp);
  let oldest = now;
  for (const time of sent) {
    if (typeof time !== 'number') return null;
    oldest = Math.min(oldest, time);
  }
  return now - oldest;
}
