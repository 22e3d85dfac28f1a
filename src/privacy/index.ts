// Public surface of privacy/: classification vocabularies, data schemas, the record codec and field
// ciphertext, blind indexes, tokenization, lower-environment masking and the encrypted record store.
export {
  CLASSIFICATIONS,
  PII_CATEGORIES,
  FIELD_TYPES,
  NORMALIZATIONS,
  LOWER_ENV_MASKS,
  ALWAYS_ENCRYPTED_CATEGORIES,
  isEncrypted,
} from './classification.ts';
export type {
  Classification,
  PiiCategory,
  FieldType,
  Normalization,
  LowerEnvMask,
} from './classification.ts';
export { parseDataSchema, defineDataSchema, fieldOf, SCHEMA_FORMAT, FF1_ALPHABETS } from './schema.ts';
export type { DataSchema, FieldSpec, BlindIndexSpec } from './schema.ts';
export { checkValue, MAX_TEXT_BYTES } from './values.ts';
export type { FieldValue } from './values.ts';
export {
  encryptField,
  decryptField,
  readFieldHeader,
  isFieldCiphertext,
  recordTags,
  FIELD_CIPHERTEXT_VERSION,
} from './field-ciphertext.ts';
export type { FieldBinding, FieldCiphertextHeader, RecordTags } from './field-ciphertext.ts';
export { RecordCodec, validateRecord, valueAt } from './record-codec.ts';
export type { PlainRecord, RecordKey, RecordContext } from './record-codec.ts';
export { normalize, canonicalText } from './normalize.ts';
export { blindIndexDigest, blindIndexContext } from './blind-index.ts';
export { Tokenizer, deterministicToken, tokenKeyContext, checkTokenDomain } from './tokenize.ts';
export type { TokenizerOptions, DetokenizeOptions } from './tokenize.ts';
export { denyAll, checkPurpose } from './authorize.ts';
export type { Authorize, PrivacyPermission } from './authorize.ts';
export { maskRecordForLowerEnv, loadMaskingKeys } from './lower-env.ts';
export type { MaskingKeys } from './lower-env.ts';
export { maskForDisplay, WITHHELD, REDACTED } from './record-view.ts';
export { parseImport, DEFAULT_IMPORT_LIMITS, RECORD_ID } from './ndjson.ts';
export type { ImportLimits, ImportLine } from './ndjson.ts';
export { RecordStore } from './record-store.ts';
export type { RecordStoreOptions, ImportResult, GetOptions, RecordView, MaskedCopy } from './record-store.ts';
export {
  maskGeneric,
  maskEmail,
  maskSsn,
  maskCard,
  maskIban,
  maskPhone,
  maskName,
  maskIpAddress,
  maskDate,
} from './mask.ts';
