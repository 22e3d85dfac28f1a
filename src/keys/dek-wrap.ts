// The wrapped form of a DEK under a KEK version: AES-256-GCM, AAD binding workspace, DEK id and version.
// Exposed for benchmarks and tools that must reproduce exactly what the keyring stores.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { open, randomBytes, seal } from '../crypto/index.ts';
import { dekBinding } from './binding.ts';

/** A fresh 256-bit DEK: the raw bytes (wipe after wrapping) and its KeyObject. */
export function generateDataKey(): { raw: Buffer; key: KeyObject } {
  const raw = randomBytes(32);
  return { raw, key: createSecretKey(raw) };
}

/** Wrap a raw DEK under a KEK version. */
export function wrapDataKey(
  kek: KeyObject,
  workspaceId: string,
  dekId: string,
  kekVersion: number,
  raw: Uint8Array,
): Buffer {
  return seal(kek, raw, dekBinding(workspaceId, dekId, kekVersion));
}

/** Unwrap to a KeyObject. Throws CRYPTO_DECRYPT_FAILED / CRYPTO_CIPHERTEXT_MALFORMED when it does not verify. */
export function unwrapDataKey(
  kek: KeyObject,
  workspaceId: string,
  dekId: string,
  kekVersion: number,
  wrapped: Uint8Array,
): KeyObject {
  const raw = open(kek, wrapped, dekBinding(workspaceId, dekId, kekVersion));
  const key = createSecretKey(raw);
  raw.fill(0);
  return key;
}
