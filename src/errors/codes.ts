// The one registry of Custos error codes: each code's HTTP status, class and title.
// Codes are stable API; add new ones, never rename or reuse one.

/** How a failure is classified: the caller's fault, the environment's, or a bug. */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

export interface ErrorSpec {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly title: string;
}

function spec(status: number, kind: ErrorKind, title: string): ErrorSpec {
  return { status, kind, title };
}

export const ERROR_CODES = {
  // general
  INTERNAL: spec(500, 'unexpected', 'Internal error'),
  INPUT_INVALID: spec(400, 'user', 'Invalid input'),
  NOT_FOUND: spec(404, 'user', 'Not found'),
  UNAUTHENTICATED: spec(401, 'user', 'Authentication required'),
  FORBIDDEN: spec(403, 'user', 'Forbidden'),

  // config
  CONFIG_INVALID: spec(400, 'user', 'Configuration is invalid'),
  CONFIG_UNREADABLE: spec(500, 'operational', 'Configuration file cannot be read'),

  // data directory and installation
  DATA_DIR_UNREADABLE: spec(500, 'operational', 'Data directory is not readable or writable'),
  DATA_DIR_EXISTS: spec(409, 'user', 'An installation already exists'),
  DATA_DIR_NOT_INITIALIZED: spec(409, 'user', 'No installation found'),

  // store
  STORE_UNAVAILABLE: spec(503, 'operational', 'Database unavailable'),
  STORE_MIGRATION_FAILED: spec(500, 'operational', 'Database migration failed'),
  STORE_CONFLICT: spec(409, 'user', 'Conflicting write'),

  // crypto
  CRYPTO_DECRYPT_FAILED: spec(400, 'user', 'Decryption failed'),
  CRYPTO_CIPHERTEXT_MALFORMED: spec(400, 'user', 'Ciphertext is malformed'),
  CRYPTO_CIPHERTEXT_VERSION_UNSUPPORTED: spec(400, 'user', 'Ciphertext format version is not supported'),
  CRYPTO_INVALID_KEY: spec(400, 'user', 'Key is invalid'),
  CRYPTO_FF1_INVALID_INPUT: spec(400, 'user', 'Input is not valid for format-preserving encryption'),
  CRYPTO_CANONICAL_JSON_INVALID: spec(400, 'user', 'Value cannot be canonicalized as RFC 8785 JSON'),
  CRYPTO_SIGNATURE_INVALID: spec(400, 'user', 'Signature is invalid'),

  // keys
  KEYS_ROOT_KEY_MISSING: spec(500, 'operational', 'Root key not found'),
  KEYS_ROOT_KEY_PERMISSIONS: spec(500, 'operational', 'Root key file permissions are too open'),
  KEYS_ROOT_KEY_CORRUPT: spec(500, 'operational', 'Root key or keyring is corrupt'),
  KEYS_PASSPHRASE_WRONG: spec(401, 'user', 'Passphrase is wrong'),
  KEYS_WORKSPACE_UNKNOWN: spec(404, 'user', 'Workspace has no keyring'),
  KEYS_VERSION_UNKNOWN: spec(404, 'user', 'Key version not found'),
  KEYS_VERSION_DESTROYED: spec(410, 'user', 'Key version was destroyed'),
  KEYS_VERSION_IN_USE: spec(409, 'user', 'Key version is still in use'),
  KEYS_VERSION_ACTIVE: spec(409, 'user', 'The active key version cannot be destroyed'),
  KEYS_SUBJECT_SHREDDED: spec(410, 'user', 'Data subject key was destroyed'),
  KEYS_DEK_UNKNOWN: spec(404, 'user', 'Data key not found'),
  KEYS_ROOT_KEY_EXISTS: spec(409, 'user', 'A root key file already exists'),
  KEYS_KEYRING_CORRUPT: spec(500, 'operational', 'Keyring entry cannot be unsealed (wrong root key or corrupt keyring)'),
  KEYS_WORKSPACE_EXISTS: spec(409, 'user', 'Workspace keyring is already initialized'),
  KEYS_SUBJECT_UNKNOWN: spec(404, 'user', 'Data subject has no key'),

  // privacy
  PRIVACY_SCHEMA_INVALID: spec(400, 'user', 'Data schema is invalid'),
  PRIVACY_RECORD_INVALID: spec(400, 'user', 'Record does not match its schema'),
  PRIVACY_AAD_MISMATCH: spec(400, 'user', 'Ciphertext does not belong to this field or record'),
  PRIVACY_CIPHERTEXT_TAMPERED: spec(400, 'user', 'Ciphertext was altered'),
  PRIVACY_DETOKENIZE_DENIED: spec(403, 'user', 'Detokenization is not permitted'),
  PRIVACY_TOKEN_INVALID: spec(400, 'user', 'Token is invalid'),
  PRIVACY_PATTERN_INVALID: spec(400, 'user', 'Custom detector pattern is invalid'),
  PRIVACY_IMPORT_FAILED: spec(400, 'user', 'Import rejected'),
  PRIVACY_RECORD_NOT_FOUND: spec(404, 'user', 'Record not found'),
  PRIVACY_FIELD_NOT_INDEXED: spec(400, 'user', 'Field has no blind index'),
  PRIVACY_WORKSPACE_MISMATCH: spec(400, 'user', 'Ciphertext belongs to another workspace'),
  PRIVACY_REVEAL_DENIED: spec(403, 'user', 'Revealing classified values is not permitted'),
  PRIVACY_SCHEMA_UNKNOWN: spec(404, 'user', 'No data schema is registered for this record type'),
} as const satisfies Record<string, ErrorSpec>;

/** Every stable error code Custos can raise. */
export type ErrorCode = keyof typeof ERROR_CODES;
