// IP address detector: IPv4 dotted quads (RFC 791 octets, no leading zeros) and IPv6 text forms
// of RFC 4291 §2.2, compressed '::' and an embedded IPv4 tail included.
import { isDigit, isHex, isWordChar, type Source } from './chars.ts';

export const IPV4_CONFIDENCE = 0.8;
export const IPV6_CONFIDENCE = 0.85;

const MAX_IPV6 = 45; // ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255

/** True for a dotted quad of decimal octets; "0.x.x.x" (this network) and leading zeros are not. */
export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || !/^\d+$/.test(p)) return false;
    if (p.length > 1 && p.charCodeAt(0) === 48) return false;
    if (Number(p) > 255) return false;
  }
  return parts[0] !== '0';
}

/**
 * True when codes[s, e) is a dotted quad whose groups the caller has already split: `starts` and
 * `ends` hold the four digit runs. Same rules as isIpv4, without allocating.
 */
export function isIpv4Groups(
  codes: Uint16Array,
  starts: Int32Array,
  ends: Int32Array,
  first: number,
): boolean {
  for (let k = first; k < first + 4; k++) {
    const s = starts[k] ?? 0;
    const len = (ends[k] ?? 0) - s;
    if (len > 3 || (len > 1 && codes[s] === 48)) return false;
    let v = 0;
    for (let i = s; i < s + len; i++) v = v * 10 + ((codes[i] ?? 48) - 48);
    if (v > 255 || (k === first && v === 0)) return false;
  }
  return true;
}

/** True for an RFC 4291 §2.2 textual IPv6 address (no zone identifier). */
export function isIpv6(s: string): boolean {
  const codes = new Uint16Array(s.length + 1);
  for (let k = 0; k < s.length; k++) codes[k] = s.charCodeAt(k);
  return isIpv6Codes(codes, 0, s.length);
}

/**
 * isIpv6 over codes[start, end), without allocating: hex groups of one to four digits separated
 * by ':', at most one '::', and an optional dotted-quad tail standing for two groups.
 */
function isIpv6Codes(codes: Uint16Array, start: number, end: number): boolean {
  let groups = 0;
  let double = false;
  let i = start;
  if (codes[i] === 58) {
    if (codes[i + 1] !== 58) return false;
    double = true;
    i += 2;
    if (i === end) return true; // "::"
  }
  for (;;) {
    let j = i;
    while (j < end && j - i < 5 && isHex(codes[j] ?? 0)) j++;
    if (codes[j] === 46 && j < end)
      return groups <= (double ? 5 : 6) && isDottedQuadAt(codes, i, end, groups, double);
    if (j === i || j - i > 4) return false;
    groups++;
    if (j === end) break;
    if (codes[j] !== 58) return false;
    if (codes[j + 1] === 58) {
      if (double) return false;
      double = true;
      i = j + 2;
      if (i === end) break;
    } else {
      i = j + 1;
      if (i === end) return false; // a single trailing colon
    }
  }
  return double ? groups <= 7 : groups === 8;
}

/** The embedded IPv4 tail of an IPv6 address at codes[i, end), with `groups` hex groups before. */
function isDottedQuadAt(
  codes: Uint16Array,
  i: number,
  end: number,
  groups: number,
  double: boolean,
): boolean {
  let octets = 0;
  let k = i;
  while (k <= end) {
    const s = k;
    let v = 0;
    while (k < end && isDigit(codes[k] ?? 0)) {
      v = v * 10 + ((codes[k] ?? 48) - 48);
      k++;
    }
    const len = k - s;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && codes[s] === 48)) return false;
    octets++;
    if (k === end) break;
    if (codes[k] !== 46) return false;
    k++;
  }
  return octets === 4 && (double ? groups + 2 <= 7 : groups + 2 === 8);
}

/**
 * The IPv6 address containing the ':' at local index `colon`, reported without allocating: when
 * found, returns its end (>= 0) and sets `ipv6Start`; otherwise returns `-1 - resume`, where
 * `resume` is just past the last colon of the rejected run, whose colons would all be rejected.
 */
export function matchIpv6Around(src: Source, colon: number): number {
  const codes = src.codes;
  const none = -1 - (colon + 1);
  let start = colon;
  for (;;) {
    const c = codes[start - 1] ?? 0;
    if (!(isHex(c) || c === 58)) break;
    start--;
    if (colon - start > MAX_IPV6) return none;
  }
  const before = codes[start - 1] ?? 0;
  if (isWordChar(before) || before === 46) return none;
  let end = start;
  let colons = 0;
  let lastColon = colon;
  let double = false;
  for (;;) {
    const c = codes[end] ?? 0;
    if (c === 58) {
      colons++;
      lastColon = end;
      if (end > start && codes[end - 1] === 58) double = true;
    } else if (!(isHex(c) || c === 46)) {
      break;
    }
    end++;
    if (end - start > MAX_IPV6 + 1) return none;
  }
  const rejected = -1 - (lastColon + 1);
  while (end > start && codes[end - 1] === 46) end--;
  if (codes[end - 1] === 58 && codes[end - 2] !== 58) end--;
  if (isWordChar(codes[end] ?? 0) || (!double && colons < 6) || end - start <= colons) return rejected; // "::" alone is prose
  if (!isIpv6Codes(codes, start, end)) return rejected;
  ipv6Start = start;
  return end;
}

/** Start of the address matchIpv6Around last found. */
export let ipv6Start = 0;
