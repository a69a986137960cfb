import { TaskTimeoutError } from '../../lib/errors.ts';

/**
 * Runs work with an abort signal that fires after `budgetMs`. Settles when
 * the work does or the budget runs out, whichever comes first: work that
 * ignores the signal is left behind, and the attempt counts as failed.
 */
export async function runWithTimeout(
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const timeout = new TaskTimeoutError(budgetMs);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeout);
      reject(timeout);
    }, budgetMs);
  });
  try {
    await Promise.race([work(controller.signal), expired]);
  } catch (error) {
    // Work that gave up because of the abort reports the timeout itself.
    throw controller.signal.aborted ? timeout : error;
  } finally {
    clearTimeout(timer);
  }
}
