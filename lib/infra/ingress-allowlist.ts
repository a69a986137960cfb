import { isIPv4, isIPv6 } from 'node:net';
import { Token } from 'aws-cdk-lib';
import type { SenderAllowlist } from './contracts.ts';

const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;

/** True when the allowlist names no sender: everyone may send. */
export function isOpen(allowlist: SenderAllowlist): boolean {
  return allowlist.cidrs.length === 0 && allowlist.vpcEndpointIds.length === 0;
}

/**
 * The conditions of a Deny statement that spares allowlisted senders: a
 * request is denied when it comes from none of the CIDRs and through none
 * of the VPC endpoints (keys of one statement must all match for it to
 * apply). Undefined for an open allowlist, which denies nothing.
 */
export function allowlistDenyConditions(
  allowlist: SenderAllowlist,
): Record<string, Record<string, string[]>> | undefined {
  if (isOpen(allowlist)) return undefined;
  const conditions: Record<string, Record<string, string[]>> = {};
  if (allowlist.cidrs.length > 0) {
    conditions.NotIpAddress = { 'aws:SourceIp': [...allowlist.cidrs] };
  }
  if (allowlist.vpcEndpointIds.length > 0) {
    conditions.StringNotEquals = {
      'aws:SourceVpce': [...allowlist.vpcEndpointIds],
    };
  }
  return conditions;
}

/** Throws when a CIDR or VPC endpoint id is malformed, naming it. */
export function assertAllowlist(allowlist: SenderAllowlist): void {
  for (const [index, cidr] of allowlist.cidrs.entries()) {
    if (!Token.isUnresolved(cidr) && !isCidr(cidr)) {
      throw new Error(
        `allowlist.cidrs[${index}] must be an IPv4 or IPv6 CIDR range ` +
          `such as 203.0.113.0/24 (got ${JSON.stringify(cidr)})`,
      );
    }
  }
  for (const [index, id] of allowlist.vpcEndpointIds.entries()) {
    if (!Token.isUnresolved(id) && !VPC_ENDPOINT_ID.test(id)) {
      throw new Error(
        `allowlist.vpcEndpointIds[${index}] must be a VPC endpoint id ` +
          `such as vpce-0a1b2c3d4e5f67890 (got ${JSON.stringify(id)})`,
      );
    }
  }
}

function isCidr(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  if (bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) {
    return false;
  }
  const prefix = Number(bits);
  if (isIPv4(address)) return prefix <= 32;
  return isIPv6(address) && prefix <= 128;
}
