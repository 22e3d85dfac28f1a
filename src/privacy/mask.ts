// Masking: pure, deterministic display forms of personal values that keep just enough to recognise
// them (j***@example.com, ***-**-6789, **** **** **** 1111). Masks are not pseudonyms: never join on them.

const STAR = '*';

function isAsciiDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

function isAsciiAlnum(ch: string): boolean {
  return isAsciiDigit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/**
 * Replace every character but the last `keepLast` with `*`, by code point (an emoji is one).
 * At most half of the value is ever kept, so a short value is never shown whole.
 */
export function maskGeneric(value: string, keepLast = 0): string {
  const chars = Array.from(value);
  const keep = Math.min(
    Math.max(0, Math.floor(Number.isFinite(keepLast) ? keepLast : 0)),
    Math.floor(chars.length / 2),
  );
  return STAR.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
}

/**
 * Replace the characters matched by `isSecret`, except the last `keep` of them, with `*`; other
 * characters (separators, '+', parentheses) stay where they are.
 */
function maskKeepingLast(value: string, keep: number, isSecret: (ch: string) => boolean): string {
  const chars = Array.from(value);
  let total = 0;
  for (const ch of chars) if (isSecret(ch)) total++;
  const shown = Math.min(keep, Math.floor(total / 2));
  let seen = 0;
  return chars
    .map((ch) => {
      if (!isSecret(ch)) return ch;
      seen++;
      return seen > total - shown ? ch : STAR;
    })
    .join('');
}

/** `jane.doe@example.com` → `j***@example.com`; anything without an '@' is masked whole. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at <= 0) return maskGeneric(value, 0);
  const first = Array.from(value.slice(0, at))[0] ?? '';
  return `${first}***${value.slice(at)}`;
}

/** Any SSN (dashed or not) → `***-**-6789`. */
export function maskSsn(value: string): string {
  const digits = Array.from(value).filter(isAsciiDigit);
  if (digits.length < 8) return maskGeneric(value, 0);
  return `***-**-${digits.slice(-4).join('')}`;
}

/** Card number → last four digits only, separators kept: `**** **** **** 1111` (under 8 digits: all masked). */
export function maskCard(value: string): string {
  if (Array.from(value).filter(isAsciiDigit).length < 8) return maskGeneric(value, 0);
  return maskKeepingLast(value, 4, isAsciiDigit);
}

/** IBAN → country code and last four characters: `DE** **** **** **** **30 00`. */
export function maskIban(value: string): string {
  const chars = Array.from(value);
  const country = chars.slice(0, 2).join('');
  const rest = chars.slice(2).filter(isAsciiAlnum).length;
  if (!/^[A-Za-z]{2}$/.test(country) || rest < 8) return maskKeepingLast(value, 4, isAsciiAlnum);
  return country + maskKeepingLast(chars.slice(2).join(''), 4, isAsciiAlnum);
}

/** Phone number → last 4 digits (10+ digits), 3 (7–9) or 2 (4–6); '+', spaces and punctuation kept. */
export function maskPhone(value: string): string {
  const digits = Array.from(value).filter(isAsciiDigit).length;
  if (digits < 4) return maskGeneric(value, 0);
  const keep = digits >= 10 ? 4 : digits >= 7 ? 3 : 2;
  return maskKeepingLast(value, keep, isAsciiDigit);
}

/** Person name → first letter of each part: `Jean-Luc Picard` → `J***-L*** P***`. */
export function maskName(value: string): string {
  return value.replace(/[\p{L}\p{M}\p{N}'’.]+/gu, (part) => `${Array.from(part)[0] ?? ''}***`);
}

/** IP address → first IPv4 octet or first IPv6 group: `203.*.*.*`, `2001:*`. */
export function maskIpAddress(value: string): string {
  if (value.includes(':')) {
    const first = value.split(':')[0] ?? '';
    return `${first === '' ? '' : first}:*`;
  }
  const parts = value.split('.');
  return parts.length === 4 ? `${parts[0] ?? ''}.*.*.*` : maskGeneric(value, 0);
}

/** Date → every digit and letter masked, separators kept: `**.**.****`. */
export function maskDate(value: string): string {
  return Array.from(value)
    .map((ch) => (isAsciiAlnum(ch) || /\p{L}/u.test(ch) ? STAR : ch))
    .join('');
}
