// IBAN detector: country code and length from the ISO 13616 registry, check digits by ISO 7064
// MOD 97-10; written compact or in the print format (groups of four separated by one space).
import { isDigit, isUpper, isWordChar } from './chars.ts';
import type { Span } from './email.ts';

export const IBAN_CONFIDENCE = 0.99;

/** IBAN length per country (SWIFT IBAN registry, release 2024). */
export const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  Object.entries({
    AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
    CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
    FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
    IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
    LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
    NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
    SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
    VA: 22, VG: 24, XK: 20, YE: 30,
  }),
); // prettier-ignore

/** ISO 7064 MOD 97-10 over the IBAN's rearranged form (BBAN, then country and check digits). */
export function ibanChecksumValid(compact: string): boolean {
  let rem = 0;
  const n = compact.length;
  for (let k = 0; k < n; k++) {
    const c = compact.charCodeAt((k + 4) % n);
    if (isDigit(c)) {
      rem = (rem * 10 + (c - 48)) % 97;
    } else if (isUpper(c)) {
      rem = (rem * 100 + (c - 55)) % 97;
    } else {
      return false;
    }
  }
  return rem === 1;
}

/** True when `compact` (upper-case, no spaces) is a registered-length IBAN with valid check digits. */
export function isIban(compact: string): boolean {
  const len = IBAN_LENGTHS.get(compact.slice(0, 2));
  if (len === undefined || compact.length !== len) return false;
  if (!isDigit(compact.charCodeAt(2)) || !isDigit(compact.charCodeAt(3))) return false;
  const check = Number(compact.slice(2, 4));
  return check >= 2 && check <= 98 && ibanChecksumValid(compact);
}

/**
 * The IBAN starting at `start` (its country code), compact or grouped by four, or undefined.
 * The caller has checked that two upper-case letters at `start` are followed by a digit.
 */
export function matchIbanAt(codes: Uint16Array, start: number): Span | undefined {
  const country = String.fromCharCode(codes[start] ?? 0, codes[start + 1] ?? 0);
  const len = IBAN_LENGTHS.get(country);
  if (len === undefined) return undefined;
  let compact = country;
  let i = start + 2;
  let grouped = false;
  while (compact.length < len) {
    const c = codes[i] ?? 0;
    if (isDigit(c) || isUpper(c)) {
      compact += String.fromCharCode(c);
    } else if (c === 32 && compact.length % 4 === 0) {
      grouped = true; // the print format: checked as a whole below
    } else {
      return undefined;
    }
    i++;
  }
  if (grouped && !checkGroups(codes, start, i)) return undefined;
  if (isWordChar(codes[i] ?? 0)) return undefined;
  return isIban(compact) ? { start, end: i } : undefined;
}

/** In the print format every group but the last has exactly four characters. */
function checkGroups(codes: Uint16Array, start: number, end: number): boolean {
  let run = 0;
  for (let i = start; i < end; i++) {
    if (codes[i] === 32) {
      if (run !== 4) return false;
      run = 0;
    } else {
      run++;
    }
  }
  return run >= 1 && run <= 4;
}
