/**
 * How a task travels as an EventBridge event: the producer client's
 * `publish` writes events of this shape and the pipeline's rules match it,
 * so the two sides share these names.
 *
 * A task event carries the envelope, unchanged, as its `detail`; the rule
 * of its task type and priority delivers `detail` to the task queue as the
 * message body, so the consumer reads the same envelope whichever way the
 * task came in.
 */

/** `source` of every task event. */
export const TASK_EVENT_SOURCE = 'tasklane.producer';

/** `detail-type` of every task event. */
export const TASK_EVENT_DETAIL_TYPE = 'Task';

/** The bus a pipeline's task events go to: `<prefix>-tasks`. */
export function taskBusName(prefix: string): string {
  return `${prefix}-tasks`;
}
