// Phone detector: candidates shaped like phone numbers are confirmed by libphonenumber-js (full
// metadata), international (+CC) or national in a default region; results are memoised per candidate.
import {
  getCountryCallingCode,
  Metadata,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/max';
import { wordList, type WordList } from './chars.ts';

/** "+<country code> …" confirmed valid. */
export const PHONE_INTERNATIONAL_CONFIDENCE = 0.9;
/** A grouped national number, e.g. (202) 555-0123, confirmed valid in the default region. */
export const PHONE_NATIONAL_CONFIDENCE = 0.8;
/** Bare digits confirmed valid, reported only next to a phone word or under a phone key. */
export const PHONE_BARE_CONFIDENCE = 0.7;

/** Words that make a bare digit run a phone number (lower-case, matched at a word start). */
export const PHONE_CONTEXT_WORDS: WordList = wordList([
  'tel',
  'phone',
  'call',
  'mobile',
  'mob',
  'cell',
  'fax',
  'sms',
  'whatsapp',
  'contact',
  'dial',
  'ring',
  'handy',
  'telefon',
]);

/**
 * Words that make a digit run an identifier rather than a phone number when they stand just before
 * it ("order 2024-000381", "invoice 555-0199"), unless a phone word is there too.
 */
export const NOT_PHONE_WORDS: WordList = wordList([
  'order',
  'invoice',
  'ticket',
  'ref',
  'receipt',
  'case',
  'serial',
  'tracking',
  'sku',
  'isbn',
  'account',
  'acct',
  'iban',
  'policy',
]);

const CACHE_LIMIT = 8192;

export interface PhoneValidator {
  readonly region: CountryCode;
  /** True when a national number of this many digits is worth parsing in `region`. */
  nationalLength(digits: number): boolean;
  /**
   * The answer for a number already seen (or plainly impossible), without parsing: `value` is
   * the number the `length` digits spell. Undefined when only isValid can tell.
   */
  known(value: number, length: number, international: boolean): boolean | undefined;
  /**
   * True when libphonenumber calls the number valid: `digits` after a '+' when `international`,
   * else a national number of `region`. Remembered for `known`.
   */
  isValid(digits: string, international: boolean): boolean;
}

/**
 * NANP numbers are NPA-NXX-XXXX with N in 2–9 (ATIS-0300115); checking that first spares a
 * libphonenumber parse for most ten-digit decoys (timestamps, ids). `value` has `length` digits.
 */
function nanpPlausible(value: number, length: number): boolean {
  let v = value;
  if (length === 11) {
    if (Math.floor(v / 1e10) !== 1) return false;
    v -= 1e10;
  } else if (length !== 10) {
    return false;
  }
  return Math.floor(v / 1e9) >= 2 && Math.floor(v / 1e6) % 10 >= 2;
}

const MAX_DIGITS = 17;

interface RegionInfo {
  /** lengths[n] = 1 when a national number of n digits is worth parsing. */
  readonly lengths: Uint8Array;
  readonly nanp: boolean;
}

const regions = new Map<CountryCode, RegionInfo>();

function regionInfo(region: CountryCode): RegionInfo {
  let info = regions.get(region);
  if (info === undefined) {
    const metadata = new Metadata();
    metadata.selectNumberingPlan(region);
    const lengths = new Uint8Array(MAX_DIGITS + 1);
    for (const len of metadata.numberingPlan?.possibleLengths() ?? []) {
      // One more digit for a trunk prefix written in front ("0" in most of Europe, "1" in NANP).
      for (const l of [len, len + 1]) if (l <= MAX_DIGITS) lengths[l] = 1;
    }
    info = { lengths, nanp: getCountryCallingCode(region) === '1' };
    regions.set(region, info);
  }
  return info;
}

/**
 * A validator for one default region with its own bounded cache of parsed numbers. Create one
 * per scan call: the cache holds phone numbers, which must not outlive the call.
 */
export function createPhoneValidator(region: CountryCode): PhoneValidator {
  const { lengths, nanp: nanpRegion } = regionInfo(region);
  // One map per (length, international): a digit string of at most 15 digits is exact as a number.
  // Created on first use: most scans (a log line, a JSON value) never parse a number.
  let caches: Map<number, boolean>[] = [];
  let cached = 0;
  const slot = (length: number, international: boolean): number => length * 2 + (international ? 1 : 0);

  function known(value: number, length: number, international: boolean): boolean | undefined {
    if (length > MAX_DIGITS || length < 2) return false;
    if (international) {
      if (
        Math.floor(value / 10 ** (length - 1)) === 1 &&
        !nanpPlausible(value % 10 ** (length - 1), length - 1)
      ) {
        return false;
      }
    } else if (nanpRegion && !nanpPlausible(value, length)) {
      return false;
    }
    return caches[slot(length, international)]?.get(value);
  }

  return {
    region,
    nationalLength: (digits) => lengths[digits] === 1,
    known,
    isValid(digits, international) {
      const value = Number(digits);
      const hit = known(value, digits.length, international);
      if (hit !== undefined) return hit;
      const parsed = international
        ? parsePhoneNumberFromString(`+${digits}`)
        : parsePhoneNumberFromString(digits, region);
      const valid = parsed?.isValid() === true;
      if (cached >= CACHE_LIMIT) {
        caches = [];
        cached = 0;
      }
      const k = slot(digits.length, international);
      (caches[k] ??= new Map<number, boolean>()).set(value, valid);
      cached++;
      return valid;
    },
  };
}

/**
 * True when `value` as a whole is a valid phone number: international with '+', or national in
 * `region` (default US). Formatting characters are allowed, letters are not.
 */
export function isPhoneNumber(value: string, region: CountryCode = 'US'): boolean {
  if (typeof value !== 'string' || value.length > 40 || /[A-Za-z]/.test(value)) return false;
  return parsePhoneNumberFromString(value, region)?.isValid() === true;
}
