// Public surface of secrets/: the write-only vault (versions, connector and environment scope,
// rotation schedules) and the SecretValue a step receives, which prints as `[secret]`.
export { SecretsVault } from './vault.ts';
export type { SecretsVaultOptions, WriteSecretInput, ListFilter, ResolveRequest } from './vault.ts';
export { SecretValue } from './secret-value.ts';
export { scrubOutput } from './scrub-output.ts';
export type { SecretMetadata, OverdueSecret, SecretState } from './metadata.ts';
export {
  SECRET_NAME,
  ENV_ID,
  ANY_ENV,
  MAX_VALUE_BYTES,
  MIN_VALUE_CHARS,
  MAX_ROTATE_EVERY_DAYS,
  checkRef,
  checkValue,
} from './names.ts';
export type { SecretRef, CheckedRef } from './names.ts';
