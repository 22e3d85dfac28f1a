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
  INPUT_TOO_LARGE: spec(413, 'user', 'Input is too large'),
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
  KEYS_KEYRING_CORRUPT: spec(
    500,
    'operational',
    'Keyring entry cannot be unsealed (wrong root key or corrupt keyring)',
  ),
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

  // runtime
  RUNTIME_WORKFLOW_NOT_DEPLOYED: spec(404, 'user', 'Workflow is not deployed in this environment'),
  RUNTIME_RUN_NOT_FOUND: spec(404, 'user', 'Run not found'),
  RUNTIME_RUN_FINISHED: spec(409, 'user', 'Run has already finished'),
  RUNTIME_RUN_NOT_RETRYABLE: spec(409, 'user', 'Run cannot be retried in its current state'),
  RUNTIME_IDEMPOTENCY_CONFLICT: spec(409, 'user', 'Idempotency key was already used with a different input'),
  RUNTIME_KILL_SWITCH_ENGAGED: spec(423, 'user', 'A kill switch stops this workflow'),
  RUNTIME_STEP_TIMEOUT: spec(504, 'operational', 'Step timed out'),
  RUNTIME_STEP_FAILED: spec(502, 'operational', 'Step failed'),
  RUNTIME_STEP_UNKNOWN: spec(500, 'operational', 'Run points at a step its workflow version does not have'),
  RUNTIME_LEASE_LOST: spec(409, 'operational', 'Another worker took over the run'),
  RUNTIME_WAIT_TIMEOUT: spec(504, 'operational', 'Run did not finish in time'),
  RUNTIME_CRON_INVALID: spec(400, 'user', 'Cron expression is invalid'),
  RUNTIME_WEBHOOK_SIGNATURE_INVALID: spec(401, 'user', 'Webhook signature is missing or invalid'),
  RUNTIME_WEBHOOK_STALE: spec(401, 'user', 'Webhook timestamp is outside the replay window'),
  RUNTIME_WEBHOOK_REPLAYED: spec(409, 'user', 'Webhook was already received'),
  RUNTIME_WEBHOOK_TOO_LARGE: spec(413, 'user', 'Webhook payload is too large'),
  RUNTIME_WEBHOOK_TOO_DEEP: spec(400, 'user', 'Webhook payload is nested too deeply'),
  RUNTIME_WEBHOOK_MALFORMED: spec(400, 'user', 'Webhook payload is not a JSON object'),
  // engine
  ENGINE_DEFINITION_INVALID: spec(400, 'user', 'Workflow definition is invalid'),
  ENGINE_DEFINITION_TOO_LARGE: spec(413, 'user', 'Workflow definition is too large'),
  ENGINE_STEP_KIND_UNKNOWN: spec(400, 'user', 'Unknown step kind'),
  ENGINE_EXPRESSION_INVALID: spec(400, 'user', 'Expression is invalid'),
  ENGINE_EXPRESSION_FAILED: spec(422, 'user', 'Expression failed to evaluate'),
  ENGINE_EXPRESSION_LIMIT: spec(422, 'user', 'Expression exceeded its time, depth or size limit'),
  ENGINE_SANDBOX_TIMEOUT: spec(422, 'user', 'Code step exceeded its time limit'),
  ENGINE_SANDBOX_MEMORY: spec(422, 'user', 'Code step exceeded its memory or stack limit'),
  ENGINE_SANDBOX_ERROR: spec(422, 'user', 'Code step threw an error'),
  ENGINE_SANDBOX_OUTPUT_INVALID: spec(422, 'user', 'Code step returned an invalid or oversized result'),
  ENGINE_HTTP_FAILED: spec(502, 'operational', 'Connector call failed'),
  ENGINE_HTTP_STATUS: spec(502, 'operational', 'Connector answered with an error status'),
  ENGINE_AI_PROMPT_BLOCKED: spec(422, 'user', 'AI prompt blocked by the prompt guard'),
  ENGINE_AI_RESPONSE_INVALID: spec(502, 'operational', 'AI model response is not usable'),
  ENGINE_APPROVAL_REJECTED: spec(409, 'user', 'Approval was rejected'),
  ENGINE_STEP_ABORTED: spec(409, 'operational', 'Step was cancelled'),
  ENGINE_STEP_OUTPUT_TOO_LARGE: spec(422, 'user', 'Step output is too large'),

  // custody
  CUSTODY_TAR_INVALID: spec(400, 'user', 'Bundle is not a valid POSIX ustar archive'),
  CUSTODY_TAR_UNSAFE_ENTRY: spec(400, 'user', 'Bundle holds an unsafe archive entry'),
  CUSTODY_TAR_DUPLICATE_ENTRY: spec(400, 'user', 'Bundle holds the same entry name twice'),
  CUSTODY_TAR_LIMIT_EXCEEDED: spec(413, 'user', 'Bundle exceeds an archive size or count limit'),
  CUSTODY_BAGIT_INVALID: spec(400, 'user', 'Bag declaration or tag file is invalid'),
  CUSTODY_MANIFEST_INVALID: spec(400, 'user', 'Bag manifest is malformed'),
  CUSTODY_MANIFEST_MISMATCH: spec(400, 'user', 'A file does not match its manifest digest'),
  CUSTODY_FILE_MISSING: spec(400, 'user', 'A file listed in a manifest is missing'),
  CUSTODY_FILE_UNLISTED: spec(400, 'user', 'A file is not listed in every manifest'),
  CUSTODY_PAYLOAD_OXUM_MISMATCH: spec(400, 'user', 'Payload-Oxum does not match the payload'),
  CUSTODY_DSSE_INVALID: spec(400, 'user', 'Attestation envelope is malformed'),
  CUSTODY_SIGNATURE_INVALID: spec(400, 'user', 'Attestation signature does not verify'),
  CUSTODY_STATEMENT_INVALID: spec(400, 'user', 'Attestation statement is malformed'),
  CUSTODY_SUBJECT_MISMATCH: spec(400, 'user', 'Attestation subjects do not match the payload'),
  CUSTODY_TAG_DIGEST_MISMATCH: spec(400, 'user', 'A signed tag file digest does not match'),
  CUSTODY_KEY_UNTRUSTED: spec(400, 'user', 'Signing key is not trusted'),
  CUSTODY_KEY_REVOKED: spec(400, 'user', 'Signing key was revoked'),
  CUSTODY_LEDGER_PROOF_INVALID: spec(400, 'user', 'Ledger inclusion proof does not verify'),
  CUSTODY_LEDGER_ENTRY_MISMATCH: spec(400, 'user', 'Ledger entry does not record this export'),
  CUSTODY_CHECKPOINT_INVALID: spec(400, 'user', 'Ledger checkpoint is invalid or untrusted'),
  CUSTODY_CHECKPOINT_INCONSISTENT: spec(400, 'user', 'Ledger checkpoints are not consistent'),
  CUSTODY_TIMESTAMP_INVALID: spec(400, 'user', 'Timestamp token does not verify'),
  CUSTODY_PROVENANCE_INVALID: spec(400, 'user', 'Provenance record is invalid'),
  CUSTODY_BUNDLE_ENCRYPTED: spec(400, 'user', 'Bundle is encrypted and no identity was given'),
  CUSTODY_BUNDLE_UNREADABLE: spec(400, 'user', 'Bundle file cannot be read'),
  CUSTODY_AGE_KEY_INVALID: spec(400, 'user', 'age recipient or identity is invalid'),
  CUSTODY_AGE_HEADER_INVALID: spec(400, 'user', 'age header is malformed'),
  CUSTODY_AGE_NO_MATCH: spec(400, 'user', 'No identity matches an age recipient stanza'),
  CUSTODY_AGE_HMAC_INVALID: spec(400, 'user', 'age header MAC does not verify'),
  CUSTODY_AGE_PAYLOAD_INVALID: spec(400, 'user', 'age payload is truncated or altered'),
  CUSTODY_DEFINITION_INVALID: spec(400, 'user', 'Export definition is invalid'),
  CUSTODY_DEFINITION_NOT_FOUND: spec(404, 'user', 'Export definition not found'),
  CUSTODY_EXPORT_DENIED: spec(403, 'user', 'Caller may not run this export'),
  CUSTODY_EXPORT_KEY_MISSING: spec(409, 'user', 'Workspace has no usable export signing key'),
  CUSTODY_EXPORT_KEY_NOT_FOUND: spec(404, 'user', 'Export signing key not found'),
  CUSTODY_ARCHIVE_NOT_FOUND: spec(404, 'user', 'Archived bundle not found'),
  CUSTODY_ARCHIVE_DENIED: spec(403, 'user', 'Role may not change the archive'),
  CUSTODY_ARCHIVE_IMMUTABLE: spec(409, 'user', 'Archived bundles cannot be overwritten or changed'),
  CUSTODY_RETENTION_ACTIVE: spec(409, 'user', 'Bundle is still under retention'),
  CUSTODY_LEGAL_HOLD: spec(409, 'user', 'Bundle is under legal hold'),
  CUSTODY_DELETION_NOT_REQUESTED: spec(409, 'user', 'Deletion needs a pending request by another admin'),
  CUSTODY_SAME_APPROVER: spec(403, 'user', 'A second, different admin must approve the deletion'),
  CUSTODY_ARCHIVE_CORRUPT: spec(500, 'operational', 'Archived bundle does not match its digest'),
  CUSTODY_ARCHIVE_IO: spec(500, 'operational', 'Archive storage failed'),

  // ledger
  LEDGER_UNKNOWN: spec(404, 'user', 'Ledger not found'),
  LEDGER_NAME_INVALID: spec(400, 'user', 'Ledger name is invalid'),
  LEDGER_EVENT_INVALID: spec(400, 'user', 'Ledger event is invalid'),
  LEDGER_ENTRY_TOO_LARGE: spec(413, 'user', 'Ledger entry is too large'),
  LEDGER_INDEX_OUT_OF_RANGE: spec(400, 'user', 'Index or tree size is beyond the ledger'),
  LEDGER_NOTE_MALFORMED: spec(400, 'user', 'Signed note is malformed'),
  LEDGER_VERIFIER_KEY_INVALID: spec(400, 'user', 'Verifier key is invalid'),
  LEDGER_CHECKPOINT_MALFORMED: spec(400, 'user', 'Checkpoint is malformed'),
  LEDGER_CHECKPOINT_SIGNATURE_INVALID: spec(400, 'user', 'Checkpoint signature is invalid'),
  LEDGER_CHECKPOINT_ORIGIN_MISMATCH: spec(400, 'user', 'Checkpoint belongs to another log'),
  LEDGER_CHECKPOINT_ROOT_MISMATCH: spec(409, 'user', 'Checkpoint root does not match the ledger'),
  LEDGER_CHECKPOINT_MISSING: spec(404, 'user', 'No checkpoint covers the ledger'),
  LEDGER_INCLUSION_PROOF_INVALID: spec(400, 'user', 'Inclusion proof is invalid'),
  LEDGER_CONSISTENCY_PROOF_INVALID: spec(409, 'user', 'Consistency proof is invalid'),
  LEDGER_ENTRY_HASH_MISMATCH: spec(409, 'user', 'Ledger entry does not match its stored hash'),
  LEDGER_ENTRY_MALFORMED: spec(409, 'user', 'Ledger entry is not a canonical event'),
  LEDGER_GAP: spec(409, 'user', 'Ledger entries are missing'),
  LEDGER_TILE_HASH_MISMATCH: spec(409, 'user', 'Stored tile hash does not match the entries'),
  LEDGER_KEY_MISMATCH: spec(409, 'user', 'Ledger signing key does not match its public key'),
  LEDGER_TILE_PATH_INVALID: spec(400, 'user', 'Tile path is invalid'),
  LEDGER_TILE_NOT_FOUND: spec(404, 'user', 'Tile not found'),
  LEDGER_TILE_MALFORMED: spec(400, 'user', 'Tile is truncated or of the wrong width'),
  LEDGER_ENTRY_BUNDLE_MALFORMED: spec(400, 'user', 'Entry bundle is truncated or of the wrong width'),
  LEDGER_TIMESTAMP_FAILED: spec(502, 'operational', 'Time-Stamp Authority request failed'),
  LEDGER_TIMESTAMP_INVALID: spec(409, 'user', 'Time-stamp token does not verify'),
  LEDGER_APPEND_FAILED: spec(503, 'operational', 'Ledger append was not committed'),
  LEDGER_CLOSED: spec(503, 'operational', 'Ledger is closed'),
} as const satisfies Record<string, ErrorSpec>;

/** Every stable error code Custos can raise. */
export type ErrorCode = keyof typeof ERROR_CODES;
