// Code-unit predicates and the Source the detectors read: a Uint16Array copy of part of the text,
// which V8 reads about twice as fast as String#charCodeAt. Indexes into `codes` are local.
import { endianness } from 'node:os';

/** A window of a string as UTF-16 code units: codes[k] is text.charCodeAt(base + k). */
export interface Source {
  readonly text: string;
  readonly codes: Uint16Array;
  /** Index in `text` of codes[0]. */
  readonly base: number;
  /** Filled code units; a few zeros follow, so short look-aheads need no bounds checks. */
  readonly length: number;
}

const PAD = 8;
const LITTLE_ENDIAN = endianness() === 'LE';
const KEEP_UNITS = 1 << 20; // a larger scratch buffer is dropped after use

let scratch = new Uint16Array((1 << 16) + 512);
let scratchBytes = Buffer.from(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * Copy text[from, to) into the shared scratch buffer. The result is valid until the next call:
 * scans are synchronous and finish with one Source before filling the next.
 */
export function fillSource(text: string, from: number, to: number): Source {
  const units = to - from;
  let codes = scratch;
  let bytes = scratchBytes;
  if (units + PAD > codes.length) {
    codes = new Uint16Array(units + PAD);
    bytes = Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    if (codes.length <= KEEP_UNITS) {
      scratch = codes;
      scratchBytes = bytes;
    }
  }
  const written = bytes.write(text.slice(from, to), 0, 'ucs2');
  if (!LITTLE_ENDIAN) bytes.subarray(0, written).swap16();
  codes.fill(0, units, units + PAD);
  return { text, codes, base: from, length: units };
}

/**
 * Zero the code units a Source copied: scan buffers outlive the scan, and personal data should
 * not linger in memory longer than the call that needed it.
 */
export function wipeSource(src: Source): void {
  src.codes.fill(0, 0, src.length);
}

/** A Source over the whole of a (short) string. */
export function sourceOf(text: string): Source {
  return fillSource(text, 0, text.length);
}

/** Character classes of the scanner, indexed by code unit (the whole BMP, so no range check). */
export const CLASS_OTHER = 0;
export const CLASS_LETTER = 1; // A–Z, a–z, _
export const CLASS_DIGIT = 2;
export const CLASS_AT = 3;
export const CLASS_COLON = 4;
export const CLASS_OPEN = 5; // '+' or '('

export const CHAR_CLASS = new Uint8Array(65536);
for (let c = 65; c <= 90; c++) CHAR_CLASS[c] = CLASS_LETTER;
for (let c = 97; c <= 122; c++) CHAR_CLASS[c] = CLASS_LETTER;
CHAR_CLASS[95] = CLASS_LETTER;
for (let c = 48; c <= 57; c++) CHAR_CLASS[c] = CLASS_DIGIT;
CHAR_CLASS[64] = CLASS_AT;
CHAR_CLASS[58] = CLASS_COLON;
CHAR_CLASS[43] = CLASS_OPEN;
CHAR_CLASS[40] = CLASS_OPEN;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

export function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isLetter(c);
}

/** Letters, digits and `_`: a value glued to one of these is part of a longer token. */
export function isWordChar(c: number): boolean {
  // CLASS_LETTER or CLASS_DIGIT, in one unsigned comparison
  return ((CHAR_CLASS[c] ?? 0) - 1) >>> 0 < 2;
}

export function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** ASCII lower-casing of one code (other codes unchanged). */
export function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Index just past the run of word characters starting at `i`. */
export function skipWord(codes: Uint16Array, i: number): number {
  let j = i;
  while (((CHAR_CLASS[codes[j] ?? 0] ?? 0) - 1) >>> 0 < 2) j++;
  return j;
}

/** True when codes at `i` spell `word` (lower-case ASCII), ignoring ASCII case. */
export function startsWithFold(codes: Uint16Array, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if (lower(codes[i + k] ?? 0) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** Lower-case context words, with a bitmask of their first letters for a quick reject. */
export interface WordList {
  readonly words: readonly string[];
  readonly firstLetters: number;
}

export function wordList(words: readonly string[]): WordList {
  let firstLetters = 0;
  for (const w of words) firstLetters |= 1 << (w.charCodeAt(0) - 97);
  return { words, firstLetters };
}

/**
 * True when one of `list`'s words starts at a word boundary in codes[from, to). Used for cheap
 * context checks ("DOB", "phone") around a candidate.
 */
export function hasWordIn(codes: Uint16Array, from: number, to: number, list: WordList): boolean {
  for (let i = Math.max(0, from); i < to; i++) {
    const c = lower(codes[i] ?? 0) - 97;
    if (c >>> 0 > 25 || (list.firstLetters & (1 << c)) === 0 || isLetter(codes[i - 1] ?? 0)) continue;
    for (const w of list.words) {
      if (w.charCodeAt(0) === c + 97 && startsWithFold(codes, i, w)) return true;
    }
  }
  return false;
}
