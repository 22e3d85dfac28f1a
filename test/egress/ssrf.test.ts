// The SSRF suite: every spelling of a forbidden address, and names that resolve to one, is refused.
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  endsInNumber,
  formatIp,
  normalizeHost,
  parseIpLoose,
  resolveAndCheck,
  type HostResolver,
} from '../../src/egress/index.ts';
import { isCustosError } from '../../src/errors/index.ts';

const text = (host: string) => {
  const ip = parseIpLoose(host);
  return ip === undefined ? undefined : formatIp(ip);
};

describe('parseIpLoose (inet_aton and RFC 4291 spellings)', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7F.0.0.01', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['2852039166', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['10.1', '10.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:DB8::1', '2001:db8::1'],
  ])('%s is %s', (input, expected) => {
    expect(text(input)).toBe(expected);
  });

  it.each([
    '256.0.0.1',
    '1.2.3.4.5',
    '4294967296',
    '0x100000000',
    '08.0.0.1',
    '1..1',
    'example.com',
    '',
    ':::',
    '1::2::3',
    '::ffff:1.2.3',
    '12345::',
  ])('%j is not an IP literal', (input) => {
    expect(parseIpLoose(input)).toBeUndefined();
  });

  it('knows which hosts must be IPv4 (ends in a number)', () => {
    expect(endsInNumber('foo.0x10')).toBe(true);
    expect(endsInNumber('1.2.3.999')).toBe(true);
    expect(endsInNumber('example.com')).toBe(false);
  });
});

describe('checkAddress', () => {
  const refused = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['2001:db8::1', 'documentation'],
    // numeric spellings
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0xa9fea9fe', 'metadata'],
    ['012.0.0.1', 'private'],
    // IPv4-mapped, -translated and -compatible IPv6
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:169.254.169.254]', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    // NAT64 and 6to4
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['64:ff9b:1::1', 'reserved'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:c0a8:0101::1', 'private'],
    // tunnels and unassigned IPv6
    ['2001::1', 'tunnel'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
  ] as const;

  it.each(refused)('%s is refused as %s', (address, category) => {
    const v = checkAddress(address);
    expect(v.allowed).toBe(false);
    expect(v.category).toBe(category);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '172.15.255.255',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ])('%s (public) is allowed', (address) => {
    expect(checkAddress(address)).toMatchObject({ allowed: true, category: 'public' });
  });

  it('development allowance opens loopback and private, never metadata or link-local', () => {
    const dev = { allowPrivateForDev: true };
    expect(checkAddress('127.0.0.1', dev).allowed).toBe(true);
    expect(checkAddress('::1', dev).allowed).toBe(true);
    expect(checkAddress('10.1.2.3', dev).allowed).toBe(true);
    expect(checkAddress('169.254.169.254', dev).allowed).toBe(false);
    expect(checkAddress('::ffff:169.254.169.254', dev).allowed).toBe(false);
    expect(checkAddress('169.254.1.1', dev).allowed).toBe(false);
    expect(checkAddress('0.0.0.0', dev).allowed).toBe(false);
    expect(checkAddress('224.0.0.1', dev).allowed).toBe(false);
  });

  it('refuses text that is not an address', () => {
    expect(checkAddress('localhost')).toMatchObject({ allowed: false, category: 'invalid' });
  });
});

describe('resolveAndCheck', () => {
  const table: Record<string, string[]> = {
    'public.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'internal.test': ['10.0.0.7'],
    'metadata.test': ['169.254.169.254'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'nat64.test': ['64:ff9b::a9fe:a9fe'],
    'empty.test': [],
  };
  const resolver: HostResolver = (host) => {
    const answers = table[host];
    if (answers === undefined)
      return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    return Promise.resolve(answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

  const code = async (host: string, dev = false) => {
    try {
      await resolveAndCheck(host, { resolver, allowPrivateForDev: dev });
      return 'ok';
    } catch (err) {
      return isCustosError(err) ? err.code : 'not a CustosError';
    }
  };

  it('accepts a name whose every address is public', async () => {
    const checked = await resolveAndCheck('PUBLIC.test.', { resolver });
    expect(checked.host).toBe('public.test');
    expect(checked.addresses.map((a) => a.address)).toEqual([
      '93.184.216.34',
      '2606:2800:220:1:248:1893:25c8:1946',
    ]);
  });

  it.each(['internal.test', 'metadata.test', 'mixed.test', 'mapped.test', 'nat64.test'])(
    '%s resolves to a forbidden address and is refused',
    async (host) => {
      expect(await code(host)).toBe('EGRESS_ADDRESS_FORBIDDEN');
    },
  );

  it('refuses the metadata name even with the development allowance', async () => {
    expect(await code('internal.test', true)).toBe('ok');
    expect(await code('metadata.test', true)).toBe('EGRESS_ADDRESS_FORBIDDEN');
  });

  it.each([
    '127.0.0.1',
    '2130706433',
    '0177.0.0.1',
    '0x7f.1',
    '127.1',
    '[::1]',
    '::ffff:127.0.0.1',
    '0.0.0.0',
    '169.254.169.254',
  ])('IP literal %s is refused without DNS', async (host) => {
    let called = false;
    const spy: HostResolver = () => {
      called = true;
      return Promise.resolve([]);
    };
    await expect(resolveAndCheck(host, { resolver: spy })).rejects.toMatchObject({
      code: 'EGRESS_ADDRESS_FORBIDDEN',
    });
    expect(called).toBe(false);
  });

  it('refuses localhost through the system resolver (/etc/hosts, no network)', async () => {
    await expect(resolveAndCheck('localhost')).rejects.toMatchObject({ code: 'EGRESS_ADDRESS_FORBIDDEN' });
  });

  it('reports unresolvable and empty names as DNS failures, bad hosts as invalid', async () => {
    expect(await code('nowhere.test')).toBe('EGRESS_DNS_FAILED');
    expect(await code('empty.test')).toBe('EGRESS_DNS_FAILED');
    expect(await code('bad_host!')).toBe('EGRESS_URL_INVALID');
    expect(await code('1.2.3.999')).toBe('EGRESS_URL_INVALID');
  });

  it('normalizes hosts to one comparable form', () => {
    expect(normalizeHost('Example.COM.')).toBe('example.com');
    expect(normalizeHost('[::FFFF:127.0.0.1]')).toBe('::ffff:7f00:1');
    expect(normalizeHost('0x7f.1')).toBe('127.0.0.1');
    expect(normalizeHost('bücher.example')).toBe('xn--bcher-kva.example');
    expect(normalizeHost('a b')).toBeUndefined();
  });
});
