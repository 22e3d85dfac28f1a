// The SSRF address policy: which resolved IP addresses an outbound connection may go to.
// Only public unicast is allowed; IPv6 forms that embed an IPv4 address are judged by that address.
import { formatIp, parseIpLoose, type IpAddress } from './ip-parse.ts';

/** Why an address is (not) reachable; only `public` is allowed in production. */
export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'shared'
  | 'multicast'
  | 'documentation'
  | 'reserved'
  | 'tunnel'
  | 'invalid';

export interface AddressVerdict {
  readonly allowed: boolean;
  /** Canonical text of the address (RFC 5952 for IPv6). */
  readonly address: string;
  readonly category: AddressCategory;
  /** For IPv6 forms that embed IPv4 (mapped, NAT64, 6to4): the embedded address that was judged. */
  readonly embedded?: string;
}

export interface AddressCheckOptions {
  /** Development only: also allow loopback and private (RFC 1918, ULA) addresses. Never metadata or link-local. */
  readonly allowPrivateForDev?: boolean;
}

/** Categories a development configuration may open; everything else stays closed. */
const DEV_CATEGORIES: ReadonlySet<AddressCategory> = new Set(['loopback', 'private']);

interface Range {
  readonly prefix: Uint8Array;
  readonly bits: number;
  readonly category: AddressCategory;
}

function v4(cidr: string, category: AddressCategory): Range {
  const [addr = '', bits = '32'] = cidr.split('/');
  const ip = parseIpLoose(addr);
  if (ip?.family !== 4) throw new Error(`bad range ${cidr}`);
  return { prefix: ip.bytes, bits: Number(bits), category };
}

function v6(cidr: string, category: AddressCategory): Range {
  const [addr = '', bits = '128'] = cidr.split('/');
  const ip = parseIpLoose(addr);
  if (ip?.family !== 6) throw new Error(`bad range ${cidr}`);
  return { prefix: ip.bytes, bits: Number(bits), category };
}

// Cloud instance metadata and platform endpoints; checked before the wider ranges that contain them,
// and never opened by the development allowance.
const METADATA: readonly Range[] = [
  v4('169.254.169.254', 'metadata'), // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  v4('169.254.170.2', 'metadata'), // AWS ECS task metadata
  v4('169.254.169.253', 'metadata'), // AWS VPC DNS
  v4('169.254.169.123', 'metadata'), // AWS time sync
  v4('168.63.129.16', 'metadata'), // Azure wire server (a public address)
  v4('100.100.100.200', 'metadata'), // Alibaba Cloud
  v4('192.0.0.192', 'metadata'), // Oracle Cloud (legacy)
  v6('fd00:ec2::254', 'metadata'), // AWS IMDS over IPv6
  v6('fd00:ec2::23', 'metadata'), // AWS VPC DNS over IPv6
];

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates).
const V4_RANGES: readonly Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.31.196.0/24', 'reserved'),
  v4('192.52.193.0/24', 'reserved'),
  v4('192.88.99.0/24', 'tunnel'),
  v4('192.168.0.0/16', 'private'),
  v4('192.175.48.0/24', 'reserved'),
  v4('198.18.0.0/15', 'reserved'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

// IANA IPv6 Special-Purpose Address Registry; anything outside 2000::/3 is refused afterwards.
const V6_RANGES: readonly Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'reserved'),
  v6('100::/64', 'reserved'),
  v6('2001::/32', 'tunnel'), // Teredo: the embedded client address is obfuscated, refuse outright
  v6('2001::/23', 'reserved'),
  v6('2001:db8::/32', 'documentation'),
  v6('3fff::/20', 'documentation'),
  v6('5f00::/16', 'reserved'),
  v6('fc00::/7', 'private'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'),
  v6('ff00::/8', 'multicast'),
];

function inRange(bytes: Uint8Array, range: Range): boolean {
  if (bytes.length !== range.prefix.length) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function categoryOf(ip: IpAddress): AddressCategory {
  for (const r of METADATA) if (inRange(ip.bytes, r)) return r.category;
  for (const r of ip.family === 4 ? V4_RANGES : V6_RANGES) if (inRange(ip.bytes, r)) return r.category;
  // Global unicast is 2000::/3; every other IPv6 block is unassigned or special.
  if (ip.family === 6 && ((ip.bytes[0] ?? 0) & 0xe0) !== 0x20) return 'reserved';
  return 'public';
}

function prefixIs(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

/**
 * The IPv4 address carried inside an IPv6 form that reaches it: IPv4-mapped (::ffff:0:0/96),
 * IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.family !== 6) return undefined;
  const b = ip.bytes;
  const zeros10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  if (prefixIs(b, [...zeros10, 0xff, 0xff])) return { family: 4, bytes: b.slice(12, 16) };
  if (prefixIs(b, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0])) return { family: 4, bytes: b.slice(12, 16) };
  if (prefixIs(b, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]))
    return { family: 4, bytes: b.slice(12, 16) };
  if (prefixIs(b, [0x20, 0x02])) return { family: 4, bytes: b.slice(2, 6) };
  // IPv4-compatible (deprecated); ::/128 and ::1/128 are not IPv4 addresses.
  if (prefixIs(b, [...zeros10, 0, 0]) && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && (b[15] ?? 0) <= 1)) {
    return { family: 4, bytes: b.slice(12, 16) };
  }
  return undefined;
}

/**
 * Judge one address (text in any spelling, or parsed). Text that is not an IP literal is `invalid`
 * and refused. With `allowPrivateForDev`, loopback and private addresses pass; metadata, link-local
 * and the rest never do.
 */
export function checkAddress(ip: string | IpAddress, options: AddressCheckOptions = {}): AddressVerdict {
  const parsed = typeof ip === 'string' ? parseIpLoose(ip) : ip;
  if (parsed === undefined) return { allowed: false, address: '', category: 'invalid' };
  const address = formatIp(parsed);
  const inner = embeddedIpv4(parsed);
  let category = inner === undefined ? categoryOf(parsed) : categoryOf(inner);
  // An IPv4-compatible address is deprecated: nothing legitimate uses it.
  if (inner !== undefined && category === 'public' && prefixIs(parsed.bytes, new Array<number>(12).fill(0))) {
    category = 'reserved';
  }
  const allowed =
    category === 'public' || (options.allowPrivateForDev === true && DEV_CATEGORIES.has(category));
  return { allowed, address, category, ...(inner === undefined ? {} : { embedded: formatIp(inner) }) };
}
