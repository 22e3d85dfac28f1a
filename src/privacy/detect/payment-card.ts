// Payment card detector: 13–19 digits, Luhn (ISO/IEC 7812-1 Annex B) and a known IIN range
// with a length that issuer allows. Grouping is checked by the scanner before digits get here.

export const CARD_CONFIDENCE = 0.95;

interface IinRange {
  readonly lo: number;
  readonly hi: number;
  /** Number of leading digits `lo`/`hi` are written with. */
  readonly digits: number;
  /** 10^(6 − digits): divides a six-digit prefix down to this range's prefix. */
  readonly scale: number;
  readonly minLen: number;
  readonly maxLen: number;
}

function range(lo: number, hi: number, minLen: number, maxLen = minLen): IinRange {
  const digits = String(lo).length;
  return { lo, hi, digits, scale: 10 ** (6 - digits), minLen, maxLen };
}

// Public IIN ranges of the major networks (ISO/IEC 7812 registrations as published by each network).
const IIN_RANGES: readonly IinRange[] = [
  range(4, 4, 13, 19), // Visa (13, 16, 19; 14–18 seen in Electron/test ranges)
  range(51, 55, 16), // Mastercard
  range(2221, 2720, 16), // Mastercard 2-series
  range(34, 34, 15), // American Express
  range(37, 37, 15),
  range(6011, 6011, 16, 19), // Discover
  range(644, 649, 16, 19),
  range(65, 65, 16, 19),
  range(3528, 3589, 16, 19), // JCB
  range(300, 305, 14, 19), // Diners Club
  range(3095, 3095, 14, 19),
  range(36, 36, 14, 19),
  range(38, 39, 14, 19),
  range(62, 62, 16, 19), // UnionPay (incl. Discover co-branded 622126–622925)
  range(2200, 2204, 16, 19), // Mir
  range(50, 50, 13, 19), // Maestro
  range(56, 58, 13, 19),
  range(6304, 6304, 13, 19),
  range(6759, 6759, 13, 19),
  range(6761, 6763, 13, 19),
];

/** Luhn check over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when the leading digits fall in a known issuer range that issues this length. */
export function knownIin(digits: string): boolean {
  const len = digits.length;
  if (len < 6) return false;
  const six = Number(digits.slice(0, 6));
  for (const r of IIN_RANGES) {
    if (len < r.minLen || len > r.maxLen) continue;
    const prefix = Math.floor(six / r.scale);
    if (prefix >= r.lo && prefix <= r.hi) return true;
  }
  return false;
}

/** True when `digits` (13–19 ASCII digits, no separators) is a plausible card number. */
export function isPaymentCard(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && knownIin(digits) && luhnValid(digits);
}

/**
 * True when digit groups of these lengths are a way cards are printed:
 * 4-4-4-4(-1..3), 4-4-4-1..3 (13–15 digits), Amex 4-6-5 or Diners 4-6-4.
 */
export function cardGrouping(lengths: readonly number[]): boolean {
  const count = lengths.length;
  if (count === 1) return true;
  if (count === 3 && lengths[0] === 4 && lengths[1] === 6 && (lengths[2] === 5 || lengths[2] === 4)) {
    return true;
  }
  if (count < 4 || count > 5) return false;
  for (let k = 0; k < count - 1; k++) if (lengths[k] !== 4) return false;
  const last = lengths[count - 1] ?? 0;
  return last >= 1 && last <= 4;
}
