// Public surface of keys/: root key providers, the workspace keyring (KEK versions, DEKs, subject keys,
// purpose secrets) and its lifecycle: rotate, rewrap, destroy, shred.
export type { RootKeyProvider } from './root-key.ts';
export { createLocalRootKeyFile, openLocalRootKeyFile } from './local-root-key.ts';
export {
  createPassphraseRootKey,
  openPassphraseRootKey,
  DEFAULT_ARGON2ID,
  DEFAULT_SCRYPT,
} from './passphrase-root-key.ts';
export type {
  Argon2idParams,
  ScryptParams,
  PassphraseKdf,
  PassphraseOptions,
} from './passphrase-root-key.ts';
export { Keyring, SECRET_PURPOSES, GCM_RANDOM_NONCE_LIMIT, DEFAULT_ROTATE_AFTER_WRAPS } from './keyring.ts';
export type { KekVersionInfo, DataKey, KeyringOptions, SecretPurpose } from './keyring.ts';
export type { KekState } from './kek-store.ts';
export { KeyScope } from './key-scope.ts';
export type { RewrapOptions, RewrapProgress, RewrapResult } from './rewrap.ts';
export { KEYRING_ACTOR } from './audit.ts';
export type { KeyAction } from './audit.ts';
export { checkSubjectId } from './subject-keys.ts';
export { generateDataKey, wrapDataKey, unwrapDataKey } from './dek-wrap.ts';
