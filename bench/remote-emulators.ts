import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AwsClientOptions } from '../lib/aws-clients.ts';

const CHILD = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));

/** fauxqs and dynalite running in a child process. */
export interface RemoteEmulators {
  readonly clientOptions: AwsClientOptions;
  /** CPU time (user plus system, µs) the emulators have used so far. */
  cpuUs(): Promise<number>;
  stop(): Promise<void>;
}

/** What the child says: first where it listens, then its CPU time. */
interface ChildMessage {
  readonly ready?: AwsClientOptions;
  readonly cpuUs?: number;
}

/**
 * Starts the emulators in a child process and resolves once they listen.
 * Their CPU time is then the child's, not the caller's.
 */
export async function startRemoteEmulators(): Promise<RemoteEmulators> {
  const child = fork(CHILD, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit').then(([code]) => ({ exitCode: code }));
  const first = await Promise.race([nextMessage(child), exited]);
  const ready = 'ready' in first ? first.ready : undefined;
  if (!ready) {
    throw new Error(
      `emulator process failed to start: ${JSON.stringify(first)}`,
    );
  }
  return {
    clientOptions: ready,
    async cpuUs() {
      const answer = nextMessage(child);
      child.send('cpu');
      return (await answer).cpuUs ?? Number.NaN;
    },
    stop: () => stopChild(child),
  };
}

async function nextMessage(child: ChildProcess): Promise<ChildMessage> {
  const [message] = await once(child, 'message');
  return message as ChildMessage;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.disconnect();
  await exited;
}
