import { TaskTypeSchema } from './envelope.ts';
import { UnknownTaskTypeError } from './errors.ts';
import type { TaskModule } from './task-module.ts';

/** The task types a deployment knows: input of the stack, the local runtime and the client. */
export interface TaskRegistry {
  readonly taskTypes: readonly string[];
  /** The module of a task type; throws UnknownTaskTypeError when none. */
  get(taskType: string): TaskModule;
  has(taskType: string): boolean;
  modules(): readonly TaskModule[];
}

/**
 * Builds a registry from task modules. Pass your own modules (with or
 * without the built-in ones) to replace the default registry.
 *
 * @example
 * const registry = createRegistry([...builtInTasks, myInvoiceTask]);
 */
export function createRegistry(modules: readonly TaskModule[]): TaskRegistry {
  const byType = new Map<string, TaskModule>();
  for (const module of modules) {
    TaskTypeSchema.parse(module.taskType);
    if (byType.has(module.taskType)) {
      throw new Error(`task type ${module.taskType} is registered twice`);
    }
    byType.set(module.taskType, module);
  }
  const taskTypes = [...byType.keys()];

  return {
    taskTypes,
    has: (taskType) => byType.has(taskType),
    modules: () => [...byType.values()],
    get(taskType) {
      const module = byType.get(taskType);
      if (!module) throw new UnknownTaskTypeError(taskType, taskTypes);
      return module;
    },
  };
}
