// The free-text scanner: one pass over the text stops only at cheap triggers (words, digits, '@',
// ':', '+', '('); each trigger runs the detector it can start, and validators see candidates only.
import { CustosError } from '../../errors/index.ts';
import {
  CHAR_CLASS as SHARED_CHAR_CLASS,
  CLASS_AT,
  CLASS_COLON,
  CLASS_DIGIT,
  CLASS_LETTER,
  CLASS_OTHER,
  fillSource,
  isAlnum,
  isDigit,
  isHex,
  isLetter,
  isUpper,
  isWordChar,
  skipWord,
  wipeSource,
  type Source,
} from './chars.ts';
import { findCustom } from './custom.ts';
import { EMAIL_CONFIDENCE, matchEmailAt } from './email.ts';
import { IBAN_CONFIDENCE, matchIbanAt } from './iban.ts';
import { ipv6Start, IPV6_CONFIDENCE, matchIpv6Around } from './ip-address.ts';
import {
  emit,
  loneNumberMatters,
  releaseNumeric,
  scanDashedYear,
  scanNumeric,
  type Hint,
} from './numeric.ts';
import { compilePlan, type ScanPlan } from './plan.ts';
import type { BuiltinCategory, Finding, PiiCategory, ScanOptions, ScanResult } from './types.ts';

// A module-local copy: V8 reads a same-module constant table measurably faster in the hot loop.
const CHAR_CLASS = new Uint8Array(SHARED_CHAR_CLASS);

/** Code units per chunk copied into the scan buffer (then extended to the next safe boundary). */
const CHUNK = 1 << 16;
/** Units copied before a chunk for look-behind: email local parts (64), context words (64). */
const BEHIND = 160;
/** Units copied after a chunk for look-ahead past a token's end. */
const AHEAD = 32;
/**
 * Characters no detected value contains, so a chunk may end after one. A newline is preferred;
 * the others keep minified JSON and other one-line inputs in bounded chunks.
 */
const SAFE_BOUNDARY = /[\n\r\t,;"<>{}[\]|=]/g;

/**
 * Find PII in free text.
 * @throws CustosError INPUT_INVALID when `text` is not a string or an option is bad;
 *   PRIVACY_PATTERN_INVALID when a custom pattern is rejected.
 */
export function scanText(text: string, options?: ScanOptions): ScanResult {
  if (typeof text !== 'string') {
    throw new CustosError('INPUT_INVALID', 'Text to scan must be a string', {
      details: { field: 'text', rule: 'string' },
    });
  }
  const plan = compilePlan(options);
  const findings = scanWithPlan(text, plan, undefined);
  return { findings, counts: countFindings(findings, plan.categories) };
}

/** Findings in `text` under a compiled plan; `hint` is the JSON key's category, if any. */
export function scanWithPlan(text: string, plan: ScanPlan, hint: Hint): Finding[] {
  const out: Finding[] = [];
  const n = text.length;
  let start = 0;
  let last: Source | undefined;
  while (start < n) {
    const end = chunkEnd(text, start);
    const from = Math.max(0, start - BEHIND);
    const src = fillSource(text, from, Math.min(n, end + AHEAD));
    // A chunk is overwritten by the next one in the same buffer; wipe a buffer left behind.
    if (last !== undefined && last.codes !== src.codes) wipeSource(last);
    last = src;
    const stop = scanChunk(src, start - from, end - from, plan, hint, out);
    start = Math.max(end, from + stop);
  }
  if (last !== undefined) wipeSource(last);
  releaseNumeric();
  for (const detector of plan.custom) findCustom(text, detector, out);
  return resolve(out, plan.minConfidence);
}

/** End of the chunk starting at `start`: just past a safe boundary, or the end of the text. */
function chunkEnd(text: string, start: number): number {
  const n = text.length;
  if (n - start <= CHUNK) return n;
  const newline = text.indexOf('\n', start + CHUNK);
  if (newline !== -1 && newline - start < 4 * CHUNK) return newline + 1;
  SAFE_BOUNDARY.lastIndex = start + CHUNK;
  const m = SAFE_BOUNDARY.exec(text);
  return m === null ? n : m.index + 1;
}

/** Scan local positions [from, to) of `src`; returns the local position scanning stopped at. */
function scanChunk(
  src: Source,
  from: number,
  to: number,
  plan: ScanPlan,
  hint: Hint,
  out: Finding[],
): number {
  const codes = src.codes;
  const { iban, ip } = plan;
  let i = from;
  while (i < to) {
    const c = codes[i] ?? 0;
    const kind = CHAR_CLASS[c] ?? CLASS_OTHER;
    if (kind === CLASS_OTHER) {
      i++;
    } else if (kind === CLASS_LETTER) {
      // A word is skipped whole, digits and all ("a3f9", "worker7"); only an IBAN starts one.
      if (iban && isUpper(c) && isUpper(codes[i + 1] ?? 0) && isDigit(codes[i + 2] ?? 0)) {
        const m = matchIbanAt(codes, i);
        if (m !== undefined) {
          pushLocal(src, out, hint, 'iban', m.start, m.end, IBAN_CONFIDENCE);
          i = m.end;
          continue;
        }
      }
      i++;
      while (((CHAR_CLASS[codes[i] ?? 0] ?? 0) - 1) >>> 0 < 2) i++; // letters and digits
    } else if (kind === CLASS_DIGIT) {
      // "v1.2", "ORD-2024-001", "/orders/48213": the tail of a longer identifier.
      const p = codes[i - 1] ?? 0;
      if ((p === 45 || p === 46 || p === 47) && isAlnum(codes[i - 2] ?? 0)) {
        // …except the year of "12-Mar-1985".
        i =
          p === 45 && plan.dob && isLetter(codes[i - 2] ?? 0)
            ? scanDashedYear(src, i, hint, out)
            : skipWord(codes, i);
        continue;
      }
      // Inline fast path for a lone short number ("200", "12ms", "3 items"), the common case.
      let j = i + 1;
      while (isDigit(codes[j] ?? 0)) j++;
      const next = codes[j] ?? 0;
      if (!isNumberSeparator(next) || !isDigit(codes[j + 1] ?? 0)) {
        if (isWordChar(next) || next === 64) {
          i = skipWord(codes, j);
        } else if ((j - i < 7 && j - i !== 4) || !loneNumberMatters(plan, codes, i, j - i)) {
          i = j;
        } else {
          i = scanNumeric(src, i, plan, hint, out);
        }
        continue;
      }
      const skip = skippableNumber(codes, i, j);
      i = skip > 0 ? skip : scanNumeric(src, i, plan, hint, out);
    } else if (kind === CLASS_COLON) {
      // An IPv6 colon sits between hex digits or in '::' ("key": 1, "a: b", "12:" never start one).
      const next = codes[i + 1] ?? 0;
      if (!ip || (next !== 58 && !(isHex(next) && isHex(codes[i - 1] ?? 0)))) i++;
      else i = onColon(src, i, hint, out);
    } else if (kind === CLASS_AT) {
      i = onAt(src, i, plan, hint, out);
    } else {
      i = onOpen(src, i, plan, hint, out);
    }
  }
  return i;
}

/**
 * For a number starting at `i` whose first digit run ends at `j` and continues ("2025-03-15T10",
 * "123.45", "1.12.3"): the index to resume at when a cheap look at its shape rules everything
 * out, else 0. Only one-chunk numbers (no space or slash) are judged: glued to a word, or two or
 * three groups under seven digits that cannot be a date.
 */
function skippableNumber(codes: Uint16Array, i: number, j: number): number {
  let k = j;
  let groups = 1;
  const l0 = j - i;
  let l1 = 0;
  let l2 = 0;
  for (;;) {
    const c = codes[k] ?? 0;
    if (!isNumberSeparator(c) || !isDigit(codes[k + 1] ?? 0)) break;
    if (c === 32 || c === 47) return 0;
    const s = ++k;
    while (isDigit(codes[k] ?? 0)) k++;
    groups++;
    if (groups === 2) l1 = k - s;
    else if (groups === 3) l2 = k - s;
  }
  const end = codes[k] ?? 0;
  if (isWordChar(end) || end === 64) return skipWord(codes, k);
  const digits = l0 + l1 + l2;
  if (digits >= 7 || groups > 3) return 0;
  if (groups === 3 && maybeDate(l0, l1, l2)) return 0;
  return k; // "123.45", "1.12.3"
}

/** Group lengths a numeric date can have (see isNumericDate): Y-M-D, D.M.Y, D.M.YY. */
function maybeDate(l0: number, l1: number, l2: number): boolean {
  if (l0 === 4) return l1 <= 2 && l2 <= 2;
  return l0 <= 2 && l1 <= 2 && (l2 === 4 || (l2 === 2 && l0 === 2 && l1 === 2));
}

/** ' ', '-', '.', '/': what may sit between the digit groups of one number. */
function isNumberSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 47;
}

function pushLocal(
  src: Source,
  out: Finding[],
  hint: Hint,
  category: 'email' | 'iban' | 'ip_address',
  start: number,
  end: number,
  confidence: number,
): void {
  emit(src, hint, out, category, start, end, confidence);
}

function onOpen(src: Source, i: number, plan: ScanPlan, hint: Hint, out: Finding[]): number {
  const codes = src.codes;
  const next = codes[i + 1] ?? 0;
  const opensNumber = isDigit(next) || (codes[i] === 43 && next === 40 && isDigit(codes[i + 2] ?? 0));
  if (!opensNumber || isWordChar(codes[i - 1] ?? 0)) return i + 1;
  return scanNumeric(src, i, plan, hint, out);
}

function onAt(src: Source, i: number, plan: ScanPlan, hint: Hint, out: Finding[]): number {
  if (!plan.email) return i + 1;
  const m = matchEmailAt(src.codes, i);
  if (m === undefined) return i + 1;
  pushLocal(src, out, hint, 'email', m.start, m.end, EMAIL_CONFIDENCE);
  return m.end;
}

function onColon(src: Source, i: number, hint: Hint, out: Finding[]): number {
  const end = matchIpv6Around(src, i);
  if (end < 0) return Math.max(i + 1, -1 - end); // the run's other colons would be rejected too
  pushLocal(src, out, hint, 'ip_address', ipv6Start, end, IPV6_CONFIDENCE);
  return end;
}

/** Sort by position and drop overlaps, keeping the more confident (then the longer) finding. */
export function resolve(found: Finding[], minConfidence: number): Finding[] {
  let clean = true;
  for (let k = 1; k < found.length; k++) {
    const prev = found[k - 1];
    const cur = found[k];
    if (prev !== undefined && cur !== undefined && cur.start < prev.end) {
      clean = false;
      break;
    }
  }
  if (clean) return minConfidence > 0 ? found.filter((f) => f.confidence >= minConfidence) : found;
  const list = [...found].sort((x, y) => x.start - y.start || y.end - x.end);
  const kept: Finding[] = [];
  for (const f of list) {
    if (f.confidence < minConfidence) continue;
    const last = kept.at(-1);
    if (last === undefined || f.start >= last.end) {
      kept.push(f);
    } else if (f.confidence > last.confidence) {
      kept[kept.length - 1] = f; // sorted by start, so f cannot reach back past `last`
    }
  }
  return kept;
}

/** Count findings per category, with zero for every category the plan could report. */
export function countFindings(
  findings: readonly Finding[],
  categories: readonly PiiCategory[],
): Record<PiiCategory, number> {
  // Built-in categories are tallied in locals: a keyed store per finding is slow on big scans.
  let email = 0;
  let phone = 0;
  let card = 0;
  let iban = 0;
  let ssn = 0;
  let ip = 0;
  let dob = 0;
  const custom = new Map<PiiCategory, number>();
  for (const f of findings) {
    switch (f.category) {
      case 'email':
        email++;
        break;
      case 'phone':
        phone++;
        break;
      case 'payment_card':
        card++;
        break;
      case 'iban':
        iban++;
        break;
      case 'us_ssn':
        ssn++;
        break;
      case 'ip_address':
        ip++;
        break;
      case 'date_of_birth':
        dob++;
        break;
      default:
        custom.set(f.category, (custom.get(f.category) ?? 0) + 1);
    }
  }
  const builtin: Readonly<Record<BuiltinCategory, number>> = {
    email,
    phone,
    payment_card: card,
    iban,
    us_ssn: ssn,
    ip_address: ip,
    date_of_birth: dob,
  };
  const counts = {} as Record<PiiCategory, number>;
  for (const c of categories) {
    counts[c] = c in builtin ? builtin[c as BuiltinCategory] : (custom.get(c) ?? 0);
  }
  for (const [c, n] of custom) counts[c] = n;
  return counts;
}
