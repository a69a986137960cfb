import type { TaskServices } from '../../lib/task-module.ts';

/** Reads a resource name the stack (or the local runtime) must provide. */
export function requireEnv(services: TaskServices, name: string): string {
  const value = services.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
