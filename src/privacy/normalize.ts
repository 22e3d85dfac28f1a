// Normalization of values before they are keyed into blind indexes and deterministic tokens, so that
// equal-meaning inputs (case, spacing, punctuation) give equal digests.
import type { Normalization } from './classification.ts';
import type { FieldValue } from './values.ts';

/** The canonical text of a value: strings as they are, numbers in ECMAScript form, booleans as words. */
export function canonicalText(value: FieldValue): string {
  return typeof value === 'string' ? value : String(value);
}

export function normalize(value: FieldValue, how: Normalization): string {
  const text = canonicalText(value);
  switch (how) {
    case 'exact':
      return text;
    case 'trim':
      return text.normalize('NFC').trim();
    case 'casefold':
      return text.normalize('NFKC').toLowerCase().trim();
    case 'email':
      return text.normalize('NFC').trim().toLowerCase();
    case 'digits':
      return text.normalize('NFKC').replace(/[^0-9]/g, '');
    case 'alnum':
      return text
        .normalize('NFKC')
        .replace(/[^A-Za-z0-9]/g, '')
        .toUpperCase();
    case 'name':
      return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
  }
}
