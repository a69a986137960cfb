import { createRegistry } from '../../lib/registry.ts';
import type { TaskModule } from '../../lib/task-module.ts';
import { dataBackup } from './data-backup.ts';
import { orderNotification } from './order-notification.ts';

/** The task types tasklane ships with. */
export const builtInTasks: readonly TaskModule[] = [
  orderNotification as TaskModule,
  dataBackup as TaskModule,
];

/** The default registry: the built-in task types. */
export const builtInRegistry = createRegistry(builtInTasks);
