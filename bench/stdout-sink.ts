/** A run of work whose standard output was counted and dropped. */
export interface Discarded<T> {
  readonly result: T;
  /** Writes to standard output during the run: log lines, metric blobs. */
  readonly writes: number;
}

/**
 * Runs `work` with writes to standard output counted and dropped, so that
 * the consumer can log and emit metrics as deployed (Powertools Logger at
 * INFO, the embedded metric format) without flooding the terminal. Lines
 * are still built and serialized; only the write itself is left out.
 * Powertools prints through a Console bound to `process.stdout`, which
 * looks `write` up at each call, so replacing it reaches their output.
 */
export async function discardingStdout<T>(
  work: () => Promise<T>,
): Promise<Discarded<T>> {
  const write = process.stdout.write;
  let writes = 0;
  process.stdout.write = (() => {
    writes += 1;
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = await work();
    return { result, writes };
  } finally {
    process.stdout.write = write;
  }
}
