// What a reader without the reveal permission sees of a decrypted record: confidential values masked to a
// recognisable shape (j***@example.com), restricted values withheld; public and internal values as stored.
import { maskCard, maskDate, maskEmail, maskGeneric, maskIban, maskName, maskPhone } from './mask.ts';
import type { FieldSpec } from './schema.ts';
import type { FieldValue } from './values.ts';

export const WITHHELD = '[restricted]';
export const REDACTED = '[redacted]';

/** The display form of one field value for a masked view. */
export function maskForDisplay(f: FieldSpec, value: FieldValue): FieldValue {
  if (!f.encrypted) return value;
  if (f.classification === 'restricted') return WITHHELD;
  if (typeof value !== 'string') return REDACTED;
  if (f.type === 'date' || f.type === 'datetime') return maskDate(value);
  switch (f.category) {
    case 'email':
      return maskEmail(value);
    case 'phone':
      return maskPhone(value);
    case 'name':
      return maskName(value);
    case 'financial':
      return /^[A-Za-z]{2}[0-9]{2}/.test(value) ? maskIban(value) : maskCard(value);
    case 'national_id':
      return maskGeneric(value, 2);
    case 'date_of_birth':
      return maskDate(value);
    default:
      return REDACTED;
  }
}
