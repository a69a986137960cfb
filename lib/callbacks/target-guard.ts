/**
 * Which callback targets may be called. A target is refused unless it is
 * https, its host is on the allowlist (when the deployment has one), and
 * every address its host resolves to is public. Only local mode accepts
 * http and loopback, since the business system under test runs on the
 * same machine there.
 *
 * The vetted address is what the request connects to (see http-post.ts):
 * the host is not resolved a second time, so a DNS answer that changes
 * between the check and the connection (DNS rebinding) cannot redirect it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { DeliveryFailedError, TargetRefusedError } from './errors.ts';

/** One address a host resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to all of its addresses. */
export type HostResolver = (
  hostname: string,
) => Promise<readonly ResolvedAddress[]>;

/** What a deployment allows as callback targets. */
export interface TargetPolicy {
  /** Local mode: http and loopback addresses are accepted. @default false */
  readonly allowLocal?: boolean;
  /**
   * Hosts that may be called; `*.example.com` matches any subdomain.
   * @default - every host with public addresses
   */
  readonly allowedHosts?: readonly string[];
  /** @default every address from the system resolver (dns.lookup, all) */
  readonly resolve?: HostResolver;
}

/** A target that passed the checks, with the address to connect to. */
export interface VettedTarget {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

/** The ranges refused, by the name given in refusals. */
const RANGES: readonly [string, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['shared (CGNAT)', '100.64.0.0', 10, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['special-purpose', '192.0.0.0', 24, 'ipv4'],
  ['benchmarking', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['IPv4-compatible', '::', 96, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  // Prefixes that embed an IPv4 address the ranges above could not see.
  ['IPv4-translated', '64:ff9b::', 96, 'ipv6'],
  ['IPv4-translated', '64:ff9b:1::', 48, 'ipv6'],
  ['6to4', '2002::', 16, 'ipv6'],
  ['Teredo', '2001::', 32, 'ipv6'],
];

const refusedRanges = RANGES.map(([name, network, prefix, type]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { name, list };
});

/**
 * The class of a non-public address ('loopback', 'private', 'link-local',
 * ...), or undefined for a public one. IPv4-mapped IPv6 addresses
 * (`::ffff:a.b.c.d`) are judged by their IPv4 address.
 */
export function addressClass(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // BlockList matches IPv4-mapped IPv6 addresses against IPv4 subnets.
  return refusedRanges.find(({ list }) => list.check(address, type))?.name;
}

/**
 * Checks a callback target and resolves its host. Throws
 * TargetRefusedError when it may not be called (not retried), and
 * DeliveryFailedError (TARGET_UNRESOLVED) when its host does not resolve
 * now (retried, since DNS failures are often passing).
 */
export async function vetTarget(
  target: string,
  policy: TargetPolicy = {},
): Promise<VettedTarget> {
  const url = parseTarget(target, policy);
  const host = bareHost(url.hostname);
  checkAllowlist(target, host, policy.allowedHosts);

  const addresses = await resolveHost(target, host, policy);
  for (const { address } of addresses) {
    const refused = addressClass(address);
    if (!refused) continue;
    if (refused === 'loopback' && policy.allowLocal) continue;
    throw new TargetRefusedError(
      target,
      'ADDRESS_NOT_PUBLIC',
      host === address
        ? `${address} is a ${refused} address`
        : `${host} resolves to ${address}, a ${refused} address`,
      address,
    );
  }
  const [first] = addresses as [ResolvedAddress];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function parseTarget(target: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new TargetRefusedError(target, 'INVALID_URL', 'not a URL');
  }
  if (url.username || url.password) {
    throw new TargetRefusedError(target, 'INVALID_URL', 'URL has credentials');
  }
  const allowed = policy.allowLocal ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) {
    const expected = policy.allowLocal ? 'http(s)' : 'https';
    throw new TargetRefusedError(
      target,
      'INSECURE_SCHEME',
      `scheme ${url.protocol.slice(0, -1)} is not ${expected}`,
    );
  }
  return url;
}

function checkAllowlist(
  target: string,
  host: string,
  allowedHosts: readonly string[] | undefined,
): void {
  if (!allowedHosts || allowedHosts.length === 0) return;
  const matches = (entry: string) => {
    const pattern = entry.toLowerCase().replace(/\.$/, '');
    return pattern.startsWith('*.')
      ? host.endsWith(pattern.slice(1))
      : host === pattern;
  };
  if (!allowedHosts.some(matches)) {
    throw new TargetRefusedError(
      target,
      'HOST_NOT_ALLOWED',
      `host ${host} is not on the callback host allowlist`,
    );
  }
}

async function resolveHost(
  target: string,
  host: string,
  policy: TargetPolicy,
): Promise<readonly ResolvedAddress[]> {
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family }];
  const resolve = policy.resolve ?? systemResolve;
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch (cause) {
    throw new DeliveryFailedError(
      'TARGET_UNRESOLVED',
      `callback host ${host} of ${target} does not resolve`,
      { cause },
    );
  }
  if (addresses.length === 0) {
    throw new DeliveryFailedError(
      'TARGET_UNRESOLVED',
      `callback host ${host} of ${target} has no address`,
    );
  }
  return addresses;
}

function systemResolve(hostname: string) {
  return dnsLookup(hostname, { all: true, order: 'verbatim' });
}

/** The host without IPv6 brackets or a trailing dot, lower-case. */
function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}
