/**
 * Read-only views of a CloudFormation template for the compliance checks:
 * the queues with their policies, the event source mappings with the
 * queue and function each joins, the functions and the alarms.
 */

/** Properties of a resource: free-form JSON, read by known paths. */
// biome-ignore lint/suspicious/noExplicitAny: free-form JSON, read by path
export type Props = Record<string, any>;

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Props;
}

/** The parts of a CloudFormation template the checks read. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, unknown>;
}

/** A policy statement as written in a template. */
export interface CfnStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A queue with the name it is given and the statements that guard it. */
export interface QueueView {
  readonly id: string;
  /** The QueueName, or the logical id when the name is not a string. */
  readonly name: string;
  readonly props: Props;
  readonly statements: readonly CfnStatement[];
}

/** An event source mapping with the queue and function it joins. */
export interface MappingView {
  readonly id: string;
  readonly props: Props;
  readonly queue?: QueueView;
  readonly functionId?: string;
}

/** One task type's consumer function and what is mapped to it. */
export interface LaneView {
  readonly taskType: string;
  readonly functionId: string;
  /** The function's timeout, in seconds (CloudFormation's default 3). */
  readonly timeoutSeconds: number;
  readonly mappings: readonly MappingView[];
}

/** Typed access to one template. */
export class TemplateView {
  readonly template: CfnTemplate;

  constructor(template: CfnTemplate) {
    this.template = template;
  }

  /** Resources of one type, as [logical id, properties]. */
  ofType(type: string): [string, Props][] {
    return Object.entries(this.template.Resources ?? {})
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => [id, resource.Properties ?? {}]);
  }

  /** Every queue, with the statements of the policies naming it. */
  queues(): QueueView[] {
    return this.ofType('AWS::SQS::Queue').map(([id, props]) => ({
      id,
      name: typeof props.QueueName === 'string' ? props.QueueName : id,
      props,
      statements: this.queueStatements(id),
    }));
  }

  /** The task queues: names ending in -high or -normal. */
  taskQueues(): QueueView[] {
    return this.queues().filter((q) => /-(high|normal)$/.test(q.name));
  }

  /** The dead-letter queues of the task types: names ending in -dlq. */
  deadLetterQueues(): QueueView[] {
    return this.queues().filter((q) => q.name.endsWith('-dlq'));
  }

  /** Every event source mapping, joined to its queue and function. */
  mappings(): MappingView[] {
    const queues = new Map(this.queues().map((q) => [q.id, q]));
    return this.ofType('AWS::Lambda::EventSourceMapping').map(([id, p]) => ({
      id,
      props: p,
      queue: queues.get(getAttId(p.EventSourceArn) ?? ''),
      functionId: refId(p.FunctionName),
    }));
  }

  /**
   * The consumers: functions whose environment names their task type
   * (`TASKLANE_TASK_TYPE`), each with its mappings.
   */
  lanes(): LaneView[] {
    const mappings = this.mappings();
    return this.ofType('AWS::Lambda::Function')
      .filter(([, p]) => p.Environment?.Variables?.TASKLANE_TASK_TYPE)
      .map(([id, p]) => ({
        taskType: String(p.Environment.Variables.TASKLANE_TASK_TYPE),
        functionId: id,
        timeoutSeconds: Number(p.Timeout ?? 3),
        mappings: mappings.filter((m) => m.functionId === id),
      }));
  }

  /** The properties of the resource with this logical id. */
  props(id: string): Props | undefined {
    return this.template.Resources?.[id]?.Properties;
  }

  private queueStatements(queueId: string): CfnStatement[] {
    return this.ofType('AWS::SQS::QueuePolicy')
      .filter(([, p]) =>
        (p.Queues as unknown[] | undefined)?.some((q) => refId(q) === queueId),
      )
      .flatMap(([, p]) => policyStatements(p.PolicyDocument));
  }
}

/** The statements of a policy document. */
export function policyStatements(document: unknown): CfnStatement[] {
  const statement = (document as { Statement?: unknown })?.Statement;
  if (!statement) return [];
  return (Array.isArray(statement) ? statement : [statement]) as CfnStatement[];
}

/** `{ Ref: id }` → id */
export function refId(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** `{ 'Fn::GetAtt': [id, attribute] }` → id */
export function getAttId(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.[
    'Fn::GetAtt'
  ];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string'
    ? getAtt[0]
    : undefined;
}

/** Whether a statement denies requests not made over TLS. */
export function isTlsDeny(statement: CfnStatement): boolean {
  const secure = statement.Condition?.Bool?.['aws:SecureTransport'];
  return statement.Effect === 'Deny' && String(secure) === 'false';
}

/** The task type slug of a queue name: `<prefix>-<slug>-<high|normal|dlq>`. */
export function laneKey(queueName: string, prefix: string): string {
  return queueName.slice(prefix.length + 1).replace(/-(high|normal|dlq)$/, '');
}
