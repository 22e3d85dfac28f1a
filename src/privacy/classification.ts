// Classification labels, PII categories and field value types: the closed vocabularies of data schemas.
// Confidential and restricted values are always encrypted; some categories may never be less than confidential.

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const PII_CATEGORIES = [
  'name',
  'email',
  'phone',
  'address',
  'national_id',
  'date_of_birth',
  'health',
  'financial',
  'credential',
  'free_text',
  'other',
] as const;
export type PiiCategory = (typeof PII_CATEGORIES)[number];

export const FIELD_TYPES = ['string', 'number', 'boolean', 'date', 'datetime'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Categories whose values are harmful enough that they must be encrypted wherever they are stored. */
export const ALWAYS_ENCRYPTED_CATEGORIES: readonly PiiCategory[] = [
  'national_id',
  'health',
  'financial',
  'credential',
];

/** True for the classifications whose values the record codec encrypts. */
export function isEncrypted(classification: Classification): boolean {
  return classification === 'confidential' || classification === 'restricted';
}

/** How a value is normalized before a blind index or a deterministic token is computed from it. */
export const NORMALIZATIONS = ['exact', 'trim', 'casefold', 'email', 'digits', 'alnum', 'name'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/** What `privacy mask` does with a field when copying records to a lower environment. */
export const LOWER_ENV_MASKS = ['keep', 'token', 'ff1', 'year', 'redact'] as const;
export type LowerEnvMask = (typeof LOWER_ENV_MASKS)[number];

export function defaultNormalization(category: PiiCategory | null): Normalization {
  switch (category) {
    case 'email':
      return 'email';
    case 'phone':
      return 'digits';
    case 'national_id':
    case 'financial':
      return 'alnum';
    case 'name':
    case 'address':
      return 'name';
    default:
      return 'trim';
  }
}

/** Default lower-environment treatment: keep what is not encrypted; for the rest, what keeps joins working. */
export function defaultLowerEnvMask(
  classification: Classification,
  category: PiiCategory | null,
  type: FieldType,
): LowerEnvMask {
  if (!isEncrypted(classification)) return 'keep';
  if (type === 'date' || type === 'datetime') return 'year';
  if (type !== 'string') return 'redact';
  switch (category) {
    case 'phone':
    case 'national_id':
    case 'financial':
      return 'ff1';
    case 'health':
    case 'credential':
    case 'free_text':
      return 'redact';
    default:
      return 'token';
  }
}
