/**
 * Entry of the child process that runs the emulators for the CPU
 * benchmark, so that the benchmark process measures only the consumers'
 * own CPU time, not dynalite's. Tells its parent the endpoints over IPC,
 * answers `cpu` with its own CPU time so far (user plus system, µs), and
 * stops when the parent disconnects.
 */
import { startEmulators } from '../lib/local/emulators.ts';

const emulators = await startEmulators({ messaging: 0, dynamodb: 0 });
process.send?.({ ready: emulators.clientOptions });
process.on('message', (message) => {
  if (message !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  process.send?.({ cpuUs: user + system });
});
process.once('disconnect', () => {
  emulators.stop().finally(() => process.exit(0));
});
