/**
 * Queue resource policies for R16 (TLS) and R17 (sender allowlist).
 *
 * TLS: every queue is made with `enforceSSL`, which denies every SQS action
 * when `aws:SecureTransport` is false. AWS API endpoints accept TLS 1.2 or
 * newer only, so a request over TLS is a request over TLS 1.2+.
 *
 * Allowlist: one Deny of `sqs:SendMessage` (which covers SendMessageBatch)
 * for any principal, with conditions that must ALL hold for the deny to
 * apply. IAM evaluates a negated operator as true when the request carries
 * no such key, which is what each line relies on:
 *
 * - `NotIpAddress aws:SourceIp` the allowlisted CIDRs: the sender's public
 *   address is elsewhere (requests through a VPC endpoint carry no
 *   `aws:SourceIp`, so they count as elsewhere and the next line decides);
 * - `StringNotEquals aws:SourceVpce` the allowlisted endpoints: the request
 *   did not come through one of them;
 * - `ArnNotLike aws:PrincipalArn` the pipeline's own roles: the caller is
 *   not a consumer (which dead-letters), the ingress function, the
 *   scheduler or any other role the pipeline itself defines;
 * - `StringNotEquals aws:PrincipalServiceName` events.amazonaws.com: the
 *   caller is not EventBridge delivering a rule's target. Which rules may
 *   deliver is limited by the Allow the rule target adds (by `aws:SourceArn`);
 *   this exemption only keeps the IP condition from blocking them.
 *
 * A line whose list is empty is left out; with no CIDR and no endpoint
 * there is nothing to allow, so no deny is added and synth warns instead.
 */
import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { SenderAllowlist } from './contracts.ts';

/** Service principals that deliver to the queues on the pipeline's behalf. */
export const EXEMPT_SERVICE_PRINCIPALS = ['events.amazonaws.com'] as const;

/** Stable id of the synth warning for an empty allowlist. */
export const EMPTY_ALLOWLIST_WARNING = 'tasklane:emptySenderAllowlist';

/** Sid of the allowlist statement in every queue policy. */
export const ALLOWLIST_STATEMENT_SID = 'DenySendOutsideSenderAllowlist';

/** Whether an allowlist allows anything, i.e. whether a deny is added. */
export function isAllowlistEmpty(allowlist: SenderAllowlist): boolean {
  return allowlist.cidrs.length === 0 && allowlist.vpcEndpointIds.length === 0;
}

/**
 * The allowlist deny for one queue, or undefined when the allowlist is
 * empty. `exemptRoleArns` may be a lazy token list.
 */
export function senderAllowlistStatement(
  queueArn: string,
  allowlist: SenderAllowlist,
  exemptRoleArns: string[],
): iam.PolicyStatement | undefined {
  if (isAllowlistEmpty(allowlist)) return undefined;

  const notEquals: Record<string, string[]> = {
    'aws:PrincipalServiceName': [...EXEMPT_SERVICE_PRINCIPALS],
  };
  if (allowlist.vpcEndpointIds.length > 0) {
    notEquals['aws:SourceVpce'] = [...allowlist.vpcEndpointIds];
  }
  const conditions: Record<string, Record<string, string[]>> = {
    StringNotEquals: notEquals,
    ArnNotLike: { 'aws:PrincipalArn': exemptRoleArns },
  };
  if (allowlist.cidrs.length > 0) {
    conditions.NotIpAddress = { 'aws:SourceIp': [...allowlist.cidrs] };
  }

  return new iam.PolicyStatement({
    sid: ALLOWLIST_STATEMENT_SID,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['sqs:SendMessage'],
    resources: [queueArn],
    conditions,
  });
}

/** Adds the allowlist deny to each queue's policy. */
export function denySendersOutsideAllowlist(
  queues: readonly sqs.IQueue[],
  allowlist: SenderAllowlist,
  exemptRoleArns: string[],
): void {
  for (const queue of queues) {
    const statement = senderAllowlistStatement(
      queue.queueArn,
      allowlist,
      exemptRoleArns,
    );
    if (statement) queue.addToResourcePolicy(statement);
  }
}

/** Warns at synth that anyone with IAM access may send, from anywhere. */
export function warnOfEmptyAllowlist(scope: IConstruct): void {
  Annotations.of(scope).addWarningV2(
    EMPTY_ALLOWLIST_WARNING,
    'The sender allowlist is empty: any principal that IAM allows may ' +
      'send tasks from any network. Set the context keys allowlistCidrs ' +
      'and/or allowlistVpcEndpoints (or the allowlist prop) to restrict ' +
      'senders (R17).',
  );
}
