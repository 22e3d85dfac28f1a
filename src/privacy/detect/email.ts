// Email detector: grows a candidate out from an '@' and validates it as a dot-atom address
// (RFC 5321 limits: local part ≤ 64, labels ≤ 63, domain ≤ 253, alphabetic TLD or punycode).
import { isAlnum, isLetter, lower, sourceOf, wipeSource } from './chars.ts';

export const EMAIL_CONFIDENCE = 0.95;

const MAX_LOCAL = 64;
const MAX_LABEL = 63;
const MAX_DOMAIN = 253;

// Dot-atom characters we accept in a local part; narrower than RFC 5322 atext on purpose
// ('*', '!', '{' and friends occur in masks and code far more often than in real addresses).
const LOCAL = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-') {
  LOCAL[ch.charCodeAt(0)] = 1;
}

function isLocalChar(c: number): boolean {
  return c < 128 && LOCAL[c] === 1;
}

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** True when the whole of `value` is one email address. */
export function isEmail(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 1) return false;
  const src = sourceOf(value);
  const m = matchEmailAt(src.codes, at);
  wipeSource(src);
  return m?.start === 0 && m.end === value.length;
}

/** The email address around the '@' at `at`, or undefined when there is none. */
export function matchEmailAt(codes: Uint16Array, at: number): Span | undefined {
  let start = at;
  while (isLocalChar(codes[start - 1] ?? 0)) {
    start--;
    if (at - start > MAX_LOCAL) return undefined;
  }
  // An ellipsis ("well...jane@") ends the prose before the address; so do leading dots.
  for (let i = at - 1; i > start + 1; i--) {
    if (codes[i] === 46 && codes[i - 1] === 46 && codes[i - 2] === 46) {
      start = i + 1;
      break;
    }
  }
  while (start < at && codes[start] === 46) start++;
  if (start === at || codes[at - 1] === 46) return undefined;
  for (let i = start + 1; i < at; i++) {
    if (codes[i] === 46 && codes[i - 1] === 46) return undefined; // "john..doe" is not an address
  }
  const end = matchDomain(codes, at + 1);
  return end === undefined ? undefined : { start, end };
}

/** End of a valid domain name starting at `from`, or undefined. */
function matchDomain(codes: Uint16Array, from: number): number | undefined {
  let i = from;
  let labels = 0;
  for (;;) {
    const labelStart = i;
    for (;;) {
      const c = codes[i] ?? 0;
      if (!isAlnum(c) && c !== 45) break;
      i++;
      if (i - labelStart > MAX_LABEL) return undefined;
    }
    if (i === labelStart) return undefined;
    if ((codes[labelStart] ?? 0) === 45 || (codes[i - 1] ?? 0) === 45) return undefined;
    labels++;
    if (i - from > MAX_DOMAIN) return undefined;
    if ((codes[i] ?? 0) === 46 && isAlnum(codes[i + 1] ?? 0)) {
      i++;
      continue;
    }
    break;
  }
  if (labels < 2) return undefined;
  let tld = i;
  while (tld > from && codes[tld - 1] !== 46) tld--;
  if (!isTld(codes, tld, i)) return undefined;
  return i;
}

function isTld(codes: Uint16Array, start: number, end: number): boolean {
  if (end - start < 2) return false;
  if (
    end - start > 4 &&
    lower(codes[start] ?? 0) === 120 && // x
    lower(codes[start + 1] ?? 0) === 110 && // n
    (codes[start + 2] ?? 0) === 45 &&
    (codes[start + 3] ?? 0) === 45
  ) {
    return true; // IDN TLD in punycode: xn--…
  }
  for (let i = start; i < end; i++) {
    if (!isLetter(codes[i] ?? 0)) return false;
  }
  return true;
}
