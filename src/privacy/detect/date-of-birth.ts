// Date-of-birth detector: a calendar date in a common written form, reported only when a birth
// context word ("born", "DOB", "date of birth", "birthday", "geb.") is close by or the JSON key says so.
import { hasWordIn, isDigit, isLetter, lower, wordList, type Source, type WordList } from './chars.ts';

export const DOB_CONFIDENCE = 0.85;

/** Context words, lower-case, matched at a word start ("birth" covers "birthday", "date of birth"). */
export const DOB_CONTEXT_WORDS: WordList = wordList([
  'born',
  'birth',
  'dob',
  'd.o.b',
  'bday',
  'b-day',
  'geb.',
  'geboren',
  'geburt',
]);

/** How far before a date's start a context word may sit, in UTF-16 units. */
const CONTEXT_BEFORE = 40;
/** Spaces and opening brackets allowed between a date and a label after it. */
const LABEL_GAP = 3;

const MONTHS: ReadonlyMap<string, number> = new Map(
  [
    ['jan', 'january', 'januar', 'jänner'],
    ['feb', 'february', 'februar'],
    ['mar', 'march', 'mär', 'märz', 'maerz'],
    ['apr', 'april'],
    ['may', 'mai'],
    ['jun', 'june', 'juni'],
    ['jul', 'july', 'juli'],
    ['aug', 'august'],
    ['sep', 'sept', 'september'],
    ['oct', 'october', 'okt', 'oktober'],
    ['nov', 'november'],
    ['dec', 'december', 'dez', 'dezember'],
  ].flatMap((names, index) => names.map((name): [string, number] => [name, index + 1])),
);

/** Letters packed five bits each (a–z, ä): month names as numbers, compared without a string. */
function letterCode(c: number): number {
  const l = lower(c);
  if (l >= 97 && l <= 122) return l - 96;
  return l === 0xe4 ? 27 : 0;
}

const MONTH_KEYS: ReadonlySet<number> = new Set(
  [...MONTHS.keys()].map((name) => {
    let key = 0;
    for (let k = 0; k < name.length; k++) key = key * 32 + letterCode(name.charCodeAt(k));
    return key;
  }),
);

/** True when the letters ending just before `end` (a '.' allowed) spell a month name. */
export function endsWithMonthName(codes: Uint16Array, end: number): boolean {
  const e = codes[end - 1] === 46 ? end - 1 : end;
  let s = e;
  while (s > 0 && e - s < 10 && letterCode(codes[s - 1] ?? 0) !== 0) s--;
  if (e - s < 3 || e - s > 9 || isLetter(codes[s - 1] ?? 0)) return false;
  let key = 0;
  for (let k = s; k < e; k++) key = key * 32 + letterCode(codes[k] ?? 0);
  return MONTH_KEYS.has(key);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True for a real calendar date with a year a living person can be born in. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  return (
    year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
  );
}

/**
 * True when three numeric groups of lengths `la`, `lb`, `lc` and values `a`, `b`, `c` form a date:
 * Y-M-D, D.M.Y, M/D/Y, or either of the last two with a two-digit year.
 */
export function isNumericDate(la: number, a: number, lb: number, b: number, lc: number, c: number): boolean {
  if (la === 4) return lb <= 2 && lc <= 2 && isCalendarDate(a, b, c);
  if (la > 2 || lb > 2) return false;
  let year: number;
  if (lc === 4) year = c;
  else if (lc === 2 && la === 2 && lb === 2)
    year = 1900 + c; // "03.12.85"; "6.18.68" is a version
  else return false;
  return isCalendarDate(year, b, a) || isCalendarDate(year, a, b);
}

/**
 * True when a birth context word sits close before `start` with no other number in between (in
 * "born 1985-03-12, hired 2010-06-01" only the first date is a birth date), or labels the date
 * right after it, as in "1985-03-12 (DOB)".
 */
export function hasDobContext(codes: Uint16Array, start: number, end: number): boolean {
  let lo = start;
  while (start - lo < CONTEXT_BEFORE && lo > 0 && !isDigit(codes[lo - 1] ?? 48)) lo--;
  if (hasWordIn(codes, lo, start, DOB_CONTEXT_WORDS)) return true;
  let hi = end;
  for (;;) {
    const c = codes[hi] ?? 0;
    if (hi - end >= LABEL_GAP || (c !== 32 && c !== 40 && c !== 91)) break;
    hi++;
  }
  return hi > end && hasWordIn(codes, hi, hi + 1, DOB_CONTEXT_WORDS);
}

// "12 March", "12th of March", "12. März", "12-Mar-" / "March 12," "Mar. 12th " — right before a year.
const MONTH_NAME_BEFORE_YEAR =
  /(?:(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\.?[ -](?:of )?([A-Za-zä]{3,9})\.?,?[ -]|(?<![A-Za-zä])([A-Za-zä]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? )$/;

/**
 * Start (local index) of a "day month-name year" or "month-name day, year" date whose four-digit
 * year starts at local index `yearStart`, or undefined.
 */
export function monthNameDateStart(src: Source, yearStart: number, year: number): number | undefined {
  const from = Math.max(0, yearStart - 24);
  const m = MONTH_NAME_BEFORE_YEAR.exec(src.text.slice(src.base + from, src.base + yearStart));
  if (m === null) return undefined;
  const dayText = m[1] ?? m[4];
  const monthText = m[2] ?? m[3];
  if (dayText === undefined || monthText === undefined) return undefined;
  const month = MONTHS.get(monthText.toLowerCase());
  if (month === undefined || !isCalendarDate(year, month, Number(dayText))) return undefined;
  return from + m.index;
}
