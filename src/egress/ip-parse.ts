// Parsing of IP address literals in every spelling an attacker may use to smuggle an address past
// a string check: inet_aton IPv4 forms (decimal, octal, hex, 1–4 parts) and full RFC 4291 IPv6.

/** An IP address as raw network-order bytes (4 for IPv4, 16 for IPv6). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

const IPV4_PART = /^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$/;
const MAX_IPV4_TEXT = 64;

function parseIpv4Part(part: string): number | undefined {
  if (!IPV4_PART.test(part)) return undefined;
  if (part.startsWith('0x') || part.startsWith('0X'))
    return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (part.length > 1 && part.startsWith('0')) return Number.parseInt(part.slice(1), 8);
  return Number.parseInt(part, 10);
}

/**
 * Parse IPv4 the way inet_aton(3) and the WHATWG URL host parser do: 1 to 4 dot-separated parts,
 * each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes, so
 * `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` all mean 127.0.0.1. One trailing dot is allowed.
 */
export function parseIpv4Loose(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > MAX_IPV4_TEXT) return undefined;
  const body = text.endsWith('.') ? text.slice(0, -1) : text;
  const parts = body.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const v = parseIpv4Part(part);
    if (v === undefined || !Number.isFinite(v)) return undefined;
    values.push(v);
  }
  const last = values.pop();
  if (last === undefined) return undefined;
  if (values.some((v) => v > 0xff)) return undefined;
  const lastBytes = 4 - values.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const bytes = new Uint8Array(4);
  values.forEach((v, i) => (bytes[i] = v));
  for (let i = 0; i < lastBytes; i++) bytes[3 - i] = Math.floor(last / 2 ** (8 * i)) & 0xff;
  return { family: 4, bytes };
}

/** Strict dotted-quad decimal, as allowed at the end of an IPv6 literal. */
function parseDottedQuad(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(Number.parseInt(g, 16));
  }
  return groups;
}

/**
 * Parse an RFC 4291 IPv6 literal, with or without brackets and zone id (`fe80::1%eth0`), including
 * a trailing dotted IPv4 (`::ffff:127.0.0.1`).
 */
export function parseIpv6(text: string): IpAddress | undefined {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length < 2 || s.length > 45 || !s.includes(':')) return undefined;
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  const lastPart = s.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    tail = parseDottedQuad(lastPart);
    if (tail === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const rest = parseGroups(halves[1] ?? '');
    if (head === undefined || rest === undefined || head.length + rest.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = parseGroups(s);
    if (all?.length !== 8) return undefined;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail !== undefined) bytes.set(tail, 12);
  return { family: 6, bytes };
}

/**
 * Parse `host` as an IP literal in any spelling (loose IPv4 per inet_aton, or IPv6 with optional
 * brackets and zone). Returns undefined when `host` is not an IP literal (a DNS name, or garbage).
 */
export function parseIpLoose(host: string): IpAddress | undefined {
  return host.includes(':') ? parseIpv6(host) : parseIpv4Loose(host);
}

/**
 * True when the last label of `host` is numeric (digits, or 0x-hex): per the WHATWG URL standard
 * such a host must be an IPv4 literal, so a failed parse means the host is invalid, not a DNS name.
 */
export function endsInNumber(host: string): boolean {
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  const last = labels[labels.length - 1] ?? '';
  return /^[0-9]+$/.test(last) || /^0[xX][0-9a-fA-F]*$/.test(last);
}

/** Canonical text of an address: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
