import { describe, expect, it } from 'vitest';
import {
  DeliveryFailedError,
  TargetRefusedError,
} from '../../lib/callbacks/errors.ts';
import {
  addressClass,
  type HostResolver,
  vetTarget,
} from '../../lib/callbacks/target-guard.ts';

/** A resolver that answers from a table and never reaches a DNS server. */
function resolverOf(table: Record<string, string[]>): HostResolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
}

const PUBLIC = '93.184.216.34';

async function refusal(target: string, policy = {}) {
  const error = await vetTarget(target, policy).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TargetRefusedError);
  return error as TargetRefusedError;
}

describe('callback target guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['[::1]', 'loopback'],
    ['[::]', 'unspecified'],
    ['[fd12::1]', 'private'],
    ['[fe80::1]', 'link-local'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['[::ffff:169.254.169.254]', 'link-local'],
  ])('refuses %s, a %s address', async (host, kind) => {
    // Act
    const error = await refusal(`https://${host}/hook`);

    // Assess
    expect(error.code).toBe('TARGET_REFUSED');
    expect(error.reason).toBe('ADDRESS_NOT_PUBLIC');
    expect(error.message).toContain(kind);
  });

  it.each([
    ['loopback.example', ['127.0.0.1']],
    ['internal.example', ['10.20.30.40']],
    ['metadata.example', ['169.254.169.254']],
    ['mapped.example', ['::ffff:a9fe:a9fe']],
    ['mixed.example', [PUBLIC, '192.168.0.10']],
  ])('refuses %s, a name resolving to %j', async (host, addresses) => {
    // Prepare
    const resolve = resolverOf({ [host]: addresses });

    // Act
    const error = await refusal(`https://${host}/hook`, { resolve });

    // Assess
    expect(error.reason).toBe('ADDRESS_NOT_PUBLIC');
    expect(error.address).toBe(addresses.at(-1));
  });

  it('refuses localhost through the system resolver', async () => {
    // Act
    const error = await refusal('https://localhost:8443/hook');

    // Assess
    expect(error.reason).toBe('ADDRESS_NOT_PUBLIC');
    expect(error.message).toMatch(/loopback/);
  });

  it('refuses plain http outside local mode', async () => {
    // Prepare
    const resolve = resolverOf({ 'shop.example': [PUBLIC] });

    // Act
    const error = await refusal('http://shop.example/hook', { resolve });

    // Assess
    expect(error.reason).toBe('INSECURE_SCHEME');
  });

  it.each([
    'ftp://shop.example/x',
    'not a url',
    'https://user:pw@shop.example/',
  ])('refuses %j', async (target) => {
    // Act
    const error = await refusal(target);

    // Assess
    expect(['INVALID_URL', 'INSECURE_SCHEME']).toContain(error.reason);
  });

  it('accepts http and loopback in local mode only', async () => {
    // Act
    const vetted = await vetTarget('http://localhost:9000/hook', {
      allowLocal: true,
    });
    const private10 = await refusal('http://10.0.0.5/hook', {
      allowLocal: true,
    });

    // Assess
    expect(addressClass(vetted.address)).toBe('loopback');
    expect(vetted.url.port).toBe('9000');
    expect(private10.reason).toBe('ADDRESS_NOT_PUBLIC');
  });

  it('accepts a public https target and keeps the address it vetted', async () => {
    // Prepare
    const resolve = resolverOf({ 'shop.example': [PUBLIC, '2606:2800::1'] });

    // Act
    const vetted = await vetTarget('https://shop.example/hook', { resolve });

    // Assess
    expect(vetted).toMatchObject({ address: PUBLIC, family: 4 });
    expect(vetted.url.hostname).toBe('shop.example');
  });

  it('refuses hosts off the allowlist and accepts those on it', async () => {
    // Prepare
    const resolve = resolverOf({
      'api.shop.example': [PUBLIC],
      'other.example': [PUBLIC],
    });
    const policy = { resolve, allowedHosts: ['*.shop.example'] };

    // Act
    const allowed = await vetTarget('https://api.shop.example/h', policy);
    const error = await refusal('https://other.example/h', policy);

    // Assess
    expect(allowed.address).toBe(PUBLIC);
    expect(error.reason).toBe('HOST_NOT_ALLOWED');
  });

  it('reports a host that does not resolve as a failure to retry', async () => {
    // Act
    const error = await vetTarget('https://nowhere.example/h', {
      resolve: resolverOf({}),
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ code: 'TARGET_UNRESOLVED' });
  });

  it.each([
    ['8.8.8.8', undefined],
    ['172.32.0.1', undefined],
    ['2001:4860:4860::8888', undefined],
    ['64:ff9b::a00:1', 'IPv4-translated'],
    ['224.0.0.1', 'multicast'],
  ])('classes %s as %s', (address, kind) => {
    // Act / Assess
    expect(addressClass(address)).toBe(kind);
  });
});
