/** Environment variables the stack sets on the ingress function. */
export const INGRESS_ENV = {
  /** Start of every queue name, as in the stack. */
  prefix: 'TASKLANE_PREFIX',
  /** Messages a task queue may hold before tasks are refused (R4). */
  capacity: 'TASKLANE_QUEUE_CAPACITY',
} as const;
