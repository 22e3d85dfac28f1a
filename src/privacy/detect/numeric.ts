// Numeric candidates: a digit run with its separators (a token) is read once, split into windows at
// spaces and slashes, and each window is classified by shape: IPv4, date of birth, SSN, card, phone.
import { hasWordIn, isDigit, isLetter, isWordChar, skipWord, type Source } from './chars.ts';
import {
  DOB_CONFIDENCE,
  endsWithMonthName,
  hasDobContext,
  isNumericDate,
  monthNameDateStart,
} from './date-of-birth.ts';
import { IPV4_CONFIDENCE, isIpv4Groups } from './ip-address.ts';
import { CARD_CONFIDENCE, cardGrouping, isPaymentCard } from './payment-card.ts';
import {
  PHONE_BARE_CONFIDENCE,
  PHONE_CONTEXT_WORDS,
  NOT_PHONE_WORDS,
  PHONE_INTERNATIONAL_CONFIDENCE,
  PHONE_NATIONAL_CONFIDENCE,
  type PhoneValidator,
} from './phone.ts';
import type { ScanPlan } from './plan.ts';
import type { BuiltinCategory, Finding } from './types.ts';
import { isUsSsn, SSN_COMPACT_CONFIDENCE, SSN_CONFIDENCE, SSN_CONTEXT_WORDS } from './us-ssn.ts';

/** The JSON key's category, if any: context for phone/SSN/date and a confidence boost. */
export type Hint = BuiltinCategory | undefined;

const MAX_GROUPS = 64;
/** Widest window (in chunks) tried inside a longer space-separated token. */
const MAX_WINDOW = 6;
/** How far before bare digits a phone or SSN word may sit. */
const CONTEXT_BEFORE = 24;
/** How far back an identifier word (order, invoice, …) vetoes a phone reading. */
const NOT_PHONE_BEFORE = 12;

const SEP_NONE = 0;
const SEP_SPACE = 1;
const SEP_DASH = 2;
const SEP_DOT = 3;
const SEP_SLASH = 4;
const SEP_ADJACENT = 5; // "(202)555": a closing parenthesis, then digits

const BIT_SPACE = 1 << SEP_SPACE;
const BIT_DASH = 1 << SEP_DASH;
const BIT_DOT = 1 << SEP_DOT;
const BIT_SLASH = 1 << SEP_SLASH;

// Scratch for the token being classified. Scans are synchronous and never re-enter this module
// while a token is open, so one set of buffers serves every scan.
const gStart = new Int32Array(MAX_GROUPS);
const gEnd = new Int32Array(MAX_GROUPS);
const gSep = new Uint8Array(MAX_GROUPS);
const gParen = new Uint8Array(MAX_GROUPS);
/** gDigits[k]: digits in groups [0, k). */
const gDigits = new Int32Array(MAX_GROUPS + 1);
const chunkFirst = new Int32Array(MAX_GROUPS + 1);
const lengths: number[] = [];
let tokStart = 0;
let tokPlus = false;
let tokGroups = 0;

/** Push a finding at local offsets of `src`, boosted when the JSON key names the same category. */
export function emit(
  src: Source,
  hint: Hint,
  out: Finding[],
  category: BuiltinCategory,
  start: number,
  end: number,
  confidence: number,
): void {
  const c = hint === category ? Math.min(0.99, confidence + 0.1) : confidence;
  out.push({ category, start: src.base + start, end: src.base + end, confidence: c });
}

// The token's source and destination, set on entry to scanNumeric (no per-token allocation).
let curHint: Hint;
let curOut: Finding[] = [];

const NO_SOURCE: Source = { text: '', codes: new Uint16Array(8), base: 0, length: 0 };
let curSrc: Source = NO_SOURCE;

/** Drop the references to the last scan's text and findings. */
export function releaseNumeric(): void {
  curSrc = NO_SOURCE;
  curOut = [];
  curHint = undefined;
}

function found(category: BuiltinCategory, start: number, end: number, confidence: number): void {
  emit(curSrc, curHint, curOut, category, start, end, confidence);
}

function slice(start: number, end: number): string {
  return curSrc.text.slice(curSrc.base + start, curSrc.base + end);
}

/** Record group `k` starting at `j` (digits, or digits in parentheses); returns its end or -1. */
function readGroup(codes: Uint16Array, j: number, k: number, sep: number, allowParen: boolean): number {
  let i = j;
  const paren = codes[i] === 40;
  if (paren) {
    if (!allowParen) return -1;
    i++;
  }
  const s = i;
  while (isDigit(codes[i] ?? 0)) i++;
  if (i === s || (paren && codes[i] !== 41)) return -1;
  gStart[k] = s;
  gEnd[k] = i;
  gSep[k] = sep;
  gParen[k] = paren ? 1 : 0;
  gDigits[k + 1] = (gDigits[k] ?? 0) + (i - s);
  return paren ? i + 1 : i;
}

const SEPARATOR = new Uint8Array(128);
SEPARATOR[32] = SEP_SPACE;
SEPARATOR[45] = SEP_DASH;
SEPARATOR[46] = SEP_DOT;
SEPARATOR[47] = SEP_SLASH;

function separatorAt(c: number): number {
  return SEPARATOR[c] ?? SEP_NONE;
}

/** Value of the ASCII digits codes[s, e) (short runs only: callers keep e - s small). */
function digitValue(codes: Uint16Array, s: number, e: number): number {
  let v = 0;
  for (let i = s; i < e; i++) v = v * 10 + ((codes[i] ?? 48) - 48);
  return v;
}

/**
 * True when a lone run of `len` digits (no separator follows) could be anything: callers skip the
 * rest (prices, counts, ids) without calling scanNumeric. `first` is the run's first code unit.
 */
export function loneNumberMatters(plan: ScanPlan, codes: Uint16Array, at: number, len: number): boolean {
  if (len < 7) return len === 4 && plan.dob && mayEndDate(codes, at, at + 4);
  const first = codes[at] ?? 0;
  return (
    (plan.card && len >= 13 && len <= 19 && first >= 50 && first <= 54) ||
    (plan.ssn && len === 9) ||
    plan.phone?.nationalLength(len) === true
  );
}

/**
 * The year of "12-Mar-1985", which the scanner would otherwise skip as the tail of an identifier:
 * reports the date if it is one, and returns where the digit run ends.
 */
export function scanDashedYear(src: Source, at: number, hint: Hint, out: Finding[]): number {
  const codes = src.codes;
  const end = skipWord(codes, at);
  if (end - at === 4 && mayEndDate(codes, at, end)) {
    curSrc = src;
    curHint = hint;
    curOut = out;
    classifyYear(at, end);
  }
  return end;
}

/**
 * Classify the numeric token at local index `at` ('+', '(' or a digit not glued to a word on its
 * left) and push what it is; returns the local index to continue scanning from.
 */
export function scanNumeric(src: Source, at: number, plan: ScanPlan, hint: Hint, out: Finding[]): number {
  const codes = src.codes;
  curSrc = src;
  curHint = hint;
  curOut = out;
  tokStart = at;
  tokPlus = codes[at] === 43;
  gDigits[0] = 0;
  let end = readGroup(codes, tokPlus ? at + 1 : at, 0, SEP_NONE, true);
  if (end < 0) return at + 1;
  let parenUsed = gParen[0] === 1;
  let groups = 1;
  let truncated = false;
  let spaced = false; // a space or slash: the token has more than one chunk
  for (;;) {
    const c = codes[end] ?? 0;
    let sep = separatorAt(c);
    let next = end + 1;
    if (sep === SEP_NONE) {
      if (gParen[groups - 1] !== 1 || !isDigit(c)) break;
      sep = SEP_ADJACENT;
      next = end;
    }
    if (groups === MAX_GROUPS) {
      truncated = true;
      break;
    }
    const allowParen = !parenUsed && (sep === SEP_SPACE || sep === SEP_DASH);
    const after = readGroup(codes, next, groups, sep, allowParen);
    if (after < 0) break;
    if (gParen[groups] === 1) parenUsed = true;
    if (sep === SEP_SPACE || sep === SEP_SLASH) spaced = true;
    groups++;
    end = after;
  }
  const t1 = codes[end] ?? 0;
  const t2 = codes[end + 1] ?? 0;
  const glued = isWordChar(t1) || t1 === 64;
  // "12:30", "1.2.3-beta", "10-day": the last chunk belongs to something larger.
  const compound =
    truncated || glued || ((t1 === 58 || t1 === 46 || t1 === 45 || t1 === 47) && isWordChar(t2));
  const resume = glued ? skipWord(codes, end) : end;
  // One chunk glued to a word ("2025-03-15T10", "56.789Z"): that chunk is dropped, nothing is left.
  if (glued && !spaced) return resume;

  let chunks = 0;
  chunkFirst[chunks++] = 0;
  for (let k = 1; k < groups; k++) {
    if (gSep[k] === SEP_SPACE || gSep[k] === SEP_SLASH) chunkFirst[chunks++] = k;
  }
  chunkFirst[chunks] = groups;
  const usable = compound ? chunks - 1 : chunks;
  tokGroups = chunkFirst[usable] ?? 0;

  if (!compound) {
    if (classify(plan, 0, groups)) return resume;
  } else if (plan.ip && t1 === 58 && isDigit(t2)) {
    classifyIpv4(plan, chunkFirst[chunks - 1] ?? 0, groups); // an address with a port: "10.0.0.1:8080"
  }
  if (usable === 0 || (usable === 1 && !compound)) return resume;
  if (plan.card && tokGroups >= 8 && cardTiles()) return resume;
  let a = 0;
  while (a < usable) {
    let hit = false;
    for (let b = Math.min(usable, a + MAX_WINDOW); b > a; b--) {
      const ga = chunkFirst[a] ?? 0;
      const gb = chunkFirst[b] ?? 0;
      if ((a === 0 && b === chunks) || !worthClassifying(plan, ga, gb)) continue;
      if (classify(plan, ga, gb)) {
        a = b;
        hit = true;
        break;
      }
    }
    if (!hit) a++;
  }
  return resume;
}

/** Cheap pre-test: fewer than 7 digits can only be an IPv4 address, a date or a year. */
function worthClassifying(plan: ScanPlan, a: number, b: number): boolean {
  const count = b - a;
  const digits = (gDigits[b] ?? 0) - (gDigits[a] ?? 0);
  return digits >= 7 || count === 3 || count === 4 || (count === 1 && digits === 4 && plan.dob);
}

/**
 * True when [a, b) is only part of a token made of four-digit groups (the last may be shorter):
 * "9400 1000 0000 0000 0000 00" is a tracking number, not a card or a phone inside one.
 */
function cutFromFours(a: number, b: number): boolean {
  if (a === 0 && b === tokGroups) return false;
  for (let k = 0; k < tokGroups - 1; k++) if (groupLength(k) !== 4) return false;
  const last = groupLength(tokGroups - 1);
  return last >= 1 && last <= 4;
}

/**
 * Two or more 16-digit cards in a row, "4111 1111 1111 1111 5555 5555 5555 4444", read as one
 * run of four-digit groups: reported when every 4-group tile is a valid card (a tracking number
 * almost never tiles that way).
 */
function cardTiles(): boolean {
  if (tokGroups < 8 || tokGroups % 4 !== 0 || tokPlus) return false;
  for (let k = 0; k < tokGroups; k++) if (groupLength(k) !== 4 || gParen[k] === 1) return false;
  for (let k = 1; k < tokGroups; k++) if (gSep[k] !== gSep[1]) return false;
  for (let t = 0; t < tokGroups; t += 4) if (!isPaymentCard(windowDigits(t, t + 4))) return false;
  for (let t = 0; t < tokGroups; t += 4)
    found('payment_card', windowStart(t), windowEnd(t + 4), CARD_CONFIDENCE);
  return true;
}

function groupLength(k: number): number {
  return (gEnd[k] ?? 0) - (gStart[k] ?? 0);
}

function windowStart(a: number): number {
  if (a === 0 && tokPlus) return tokStart;
  const s = gStart[a] ?? 0;
  return gParen[a] === 1 ? s - 1 : s;
}

function windowEnd(b: number): number {
  const e = gEnd[b - 1] ?? 0;
  return gParen[b - 1] === 1 ? e + 1 : e;
}

function windowDigits(a: number, b: number): string {
  let s = '';
  for (let k = a; k < b; k++) s += slice(gStart[k] ?? 0, gEnd[k] ?? 0);
  return s;
}

function classifyIpv4(plan: ScanPlan, a: number, b: number): boolean {
  if (b - a !== 4) return false;
  for (let k = a + 1; k < b; k++) if (gSep[k] !== SEP_DOT) return false;
  if ((a === 0 && tokPlus) || gParen[a] === 1) return false;
  const s = gStart[a] ?? 0;
  const e = gEnd[b - 1] ?? 0;
  if (plan.ip && isIpv4Groups(curSrc.codes, gStart, gEnd, a)) found('ip_address', s, e, IPV4_CONFIDENCE);
  return true;
}

/**
 * Classify groups [a, b) as one candidate. True when the window is spoken for (found, or a shape
 * that excludes the others, such as a date or an excluded SSN), so no sub-window is tried.
 */
function classify(plan: ScanPlan, a: number, b: number): boolean {
  const count = b - a;
  const digits = (gDigits[b] ?? 0) - (gDigits[a] ?? 0);
  let mask = 0;
  let anyParen = gParen[a] === 1;
  for (let k = a + 1; k < b; k++) {
    mask |= 1 << (gSep[k] ?? 0);
    if (gParen[k] === 1) anyParen = true;
  }
  const plain = !(a === 0 && tokPlus) && !anyParen;

  if (count === 4 && mask === BIT_DOT && plain) return classifyIpv4(plan, a, b);
  if (count === 3 && plain && (mask === BIT_DASH || mask === BIT_DOT || mask === BIT_SLASH)) {
    if (classifyTriple(plan, a, mask)) return true;
  }
  if ((mask & BIT_SLASH) !== 0) return false;
  if (digits < 7) {
    if (count === 1 && digits === 4 && plain && plan.dob) return classifyYear(gStart[a] ?? 0, gEnd[a] ?? 0);
    return false;
  }
  if (count === 1 && plain && digits === 9 && plan.ssn && classifyBareSsn(a)) return true;
  if (
    plan.card &&
    plain &&
    digits >= 13 &&
    digits <= 19 &&
    (mask === 0 || mask === BIT_SPACE || mask === BIT_DASH)
  ) {
    if (classifyCard(a, b)) return true;
  }
  if (plan.phone !== undefined && digits <= 15) return classifyPhone(plan.phone, a, b, digits, mask);
  return false;
}

/** Three groups with one separator: a date (of birth, given context) or AAA-GG-SSSS. */
function classifyTriple(plan: ScanPlan, a: number, mask: number): boolean {
  const codes = curSrc.codes;
  const l0 = groupLength(a);
  const l1 = groupLength(a + 1);
  const l2 = groupLength(a + 2);
  if (l0 > 4 || l1 > 4 || l2 > 4) return false;
  const ws = gStart[a] ?? 0;
  const we = gEnd[a + 2] ?? 0;
  const v0 = digitValue(codes, ws, ws + l0);
  const v1 = digitValue(codes, gStart[a + 1] ?? 0, gEnd[a + 1] ?? 0);
  const v2 = digitValue(codes, gStart[a + 2] ?? 0, we);
  if (isNumericDate(l0, v0, l1, v1, l2, v2)) {
    if (plan.dob && (curHint === 'date_of_birth' || hasDobContext(codes, ws, we))) {
      found('date_of_birth', ws, we, DOB_CONFIDENCE);
    }
    return true;
  }
  if (mask === BIT_DASH && l0 === 3 && l1 === 2 && l2 === 4) {
    if (plan.ssn && isUsSsn(windowDigits(a, a + 3))) found('us_ssn', ws, we, SSN_CONFIDENCE);
    return true;
  }
  return false;
}

/** True when codes[ws, we) (four digits) is a year 19xx/20xx after ' ' or '-', as in "12 March 1985". */
function mayEndDate(codes: Uint16Array, ws: number, we: number): boolean {
  const before = codes[ws - 1] ?? 0;
  const first = codes[ws] ?? 0;
  if ((before !== 32 && before !== 45) || (first !== 49 && first !== 50)) return false; // ' '/'-', 1…/2…
  const year = digitValue(codes, ws, we);
  if (year < 1900 || year > 2099) return false;
  // "March 12, 1985" / "March 12 1985" put a day before the year, "12 March 1985" a month name.
  const c = codes[ws - 2] ?? 0;
  return c === 44 || isDigit(c) || (isLetter(c) && endsWithMonthName(codes, ws - 1));
}

/** A four-digit year ending a "12 March 1985" / "March 12, 1985" date near a birth word. */
function classifyYear(ws: number, we: number): boolean {
  const codes = curSrc.codes;
  if (!mayEndDate(codes, ws, we)) return false;
  const year = digitValue(codes, ws, we);
  const start = monthNameDateStart(curSrc, ws, year);
  if (start === undefined) return false;
  if (curHint !== 'date_of_birth' && !hasDobContext(codes, start, we)) return false;
  found('date_of_birth', start, we, DOB_CONFIDENCE);
  return true;
}

function classifyBareSsn(a: number): boolean {
  const ws = gStart[a] ?? 0;
  const we = gEnd[a] ?? 0;
  if (curHint !== 'us_ssn' && !hasWordIn(curSrc.codes, ws - CONTEXT_BEFORE, ws, SSN_CONTEXT_WORDS))
    return false;
  if (!isUsSsn(slice(ws, we))) return false;
  found('us_ssn', ws, we, SSN_COMPACT_CONFIDENCE);
  return true;
}

function classifyCard(a: number, b: number): boolean {
  const first = curSrc.codes[gStart[a] ?? 0] ?? 0;
  if (first < 50 || first > 54) return false; // every issuer range starts with 2–6 (ISO/IEC 7812 MII)
  lengths.length = 0;
  for (let k = a; k < b; k++) lengths.push(groupLength(k));
  if (!cardGrouping(lengths)) return false;
  if (cutFromFours(a, b)) return false;
  if (!isPaymentCard(windowDigits(a, b))) return false;
  found('payment_card', windowStart(a), windowEnd(b), CARD_CONFIDENCE);
  return true;
}

function classifyPhone(
  validator: PhoneValidator,
  a: number,
  b: number,
  digits: number,
  mask: number,
): boolean {
  const count = b - a;
  if ((mask & BIT_DOT) !== 0 && (mask & BIT_DASH) !== 0) return false;
  const ws = windowStart(a);
  if (curSrc.codes[ws - 1] === 35) return false; // "#2025550123" is an order or ticket number
  if (
    hasWordIn(curSrc.codes, ws - NOT_PHONE_BEFORE, ws, NOT_PHONE_WORDS) &&
    !hasWordIn(curSrc.codes, ws - NOT_PHONE_BEFORE, ws, PHONE_CONTEXT_WORDS)
  ) {
    return false; // "order 2024-000381", "invoice 202-555-0143": an identifier, not a number to call
  }
  if (cutFromFours(a, b)) return false;
  let confidence: number;
  if (a === 0 && tokPlus) {
    if (count > 7 || (count > 1 && groupLength(a) > 3)) return false;
    confidence = PHONE_INTERNATIONAL_CONFIDENCE;
  } else {
    if (!validator.nationalLength(digits)) return false;
    if (count === 1) {
      const context =
        curHint === 'phone' || hasWordIn(curSrc.codes, ws - CONTEXT_BEFORE, ws, PHONE_CONTEXT_WORDS);
      if (!context) return false;
      confidence = PHONE_BARE_CONFIDENCE;
    } else {
      if (count > 6) return false;
      const first = groupLength(a);
      if (first > 5 || (first === 1 && count < 3)) return false;
      for (let k = a + 1; k < b; k++) {
        const len = groupLength(k);
        if (len < 2 || len > 8) return false;
      }
      confidence = gParen[a] === 1 ? PHONE_NATIONAL_CONFIDENCE + 0.05 : PHONE_NATIONAL_CONFIDENCE;
    }
  }
  const we = windowEnd(b);
  const international = a === 0 && tokPlus;
  let value = 0;
  for (let k = a; k < b; k++)
    value = value * 10 ** groupLength(k) + digitValue(curSrc.codes, gStart[k] ?? 0, gEnd[k] ?? 0);
  const valid =
    validator.known(value, digits, international) ?? validator.isValid(windowDigits(a, b), international);
  if (!valid) return false;
  found('phone', ws, we, confidence);
  return true;
}
