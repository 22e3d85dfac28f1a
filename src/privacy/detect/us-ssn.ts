// US Social Security Number detector: AAA-GG-SSSS with the SSA's never-issued ranges excluded
// (area 000, 666, 900–999; group 00; serial 0000) and numbers made public in advertising.
import { wordList, type WordList } from './chars.ts';

/** Formatted AAA-GG-SSSS. */
export const SSN_CONFIDENCE = 0.85;
/** Nine bare digits next to an "SSN" label or under an `ssn` key. */
export const SSN_COMPACT_CONFIDENCE = 0.7;

/** Words that make nine bare digits an SSN (lower-case, matched at a word start). */
export const SSN_CONTEXT_WORDS: WordList = wordList(['ssn', 'social security', 'soc sec', 'ss#', 'ss no']);

// Woolworth's wallet card (078-05-1120), the 1940s Social Security Board pamphlet (219-09-9999)
// and the LifeLock advertisement (457-55-5462): published, therefore never a real person's number.
const ADVERTISED = new Set(['078051120', '219099999', '457555462']);

/** True when nine ASCII digits form an SSN that can have been issued. */
export function isUsSsn(digits: string): boolean {
  if (digits.length !== 9) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  return !ADVERTISED.has(digits);
}
