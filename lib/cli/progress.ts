import { Presets, SingleBar } from 'cli-progress';
import type { CliIo } from './command-kit.ts';

/** A progress bar on standard error, or nothing. */
export interface Progress {
  /** Adds `count` to the value; the total grows if the value passes it. */
  advance(count: number): void;
  /** Sets the value and, when known, the total. */
  update(value: number, total?: number): void;
  stop(): void;
}

const silent: Progress = { advance() {}, update() {}, stop() {} };

/**
 * Shows a bar on standard error when it is a terminal and the output is
 * not JSON; otherwise does nothing, so scripts and logs stay clean.
 */
export function startProgress(
  io: CliIo,
  json: boolean | undefined,
  label: string,
  total: number,
): Progress {
  if (json || !io.interactive) return silent;
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total}`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0);
  let value = 0;
  return {
    advance(count) {
      value += count;
      if (value > bar.getTotal()) bar.setTotal(value);
      bar.update(value);
    },
    update(next, nextTotal) {
      value = next;
      if (nextTotal !== undefined) bar.setTotal(Math.max(nextTotal, next, 1));
      bar.update(value);
    },
    stop: () => bar.stop(),
  };
}
