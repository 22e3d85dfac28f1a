// AES-256-GCM sealing with a 96-bit random nonce and a 128-bit tag, on node:crypto only.
// Layout of a sealed box: nonce (12) || ciphertext || tag (16).
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import { randomBytes } from './random.ts';

export const AES_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/**
 * An AES-256 key: raw bytes, or a secret KeyObject from `createSecretKey`. Prefer a KeyObject for keys
 * used more than once: node:crypto then skips re-importing the key on every call (about 4x faster).
 */
export type AesKey = Uint8Array | KeyObject;

function checkKey(key: AesKey): void {
  const size =
    key instanceof Uint8Array ? key.length : key.type === 'secret' ? key.symmetricKeySize : undefined;
  if (size !== AES_KEY_BYTES) {
    throw new CustosError('CRYPTO_INVALID_KEY', 'AES-256 key must be 32 bytes', {
      details: { field: 'key', rule: 'length 32' },
    });
  }
}

/** Encrypt `plaintext` under `key`, binding `aad`. Returns nonce || ciphertext || tag. Throws CRYPTO_INVALID_KEY. */
export function seal(key: AesKey, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/**
 * Decrypt a sealed box produced by {@link seal}.
 * Throws CRYPTO_CIPHERTEXT_MALFORMED when too short, CRYPTO_DECRYPT_FAILED when the tag does not verify
 * (wrong key, wrong AAD or altered bytes: GCM cannot tell these apart).
 */
export function open(key: AesKey, box: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  if (box.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) {
    throw new CustosError('CRYPTO_CIPHERTEXT_MALFORMED', 'Sealed box is too short', {
      details: { rule: `at least ${GCM_NONCE_BYTES + GCM_TAG_BYTES} bytes` },
    });
  }
  const nonce = box.subarray(0, GCM_NONCE_BYTES);
  const tag = box.subarray(box.length - GCM_TAG_BYTES);
  const body = box.subarray(GCM_NONCE_BYTES, box.length - GCM_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const out = decipher.update(body);
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch (cause) {
    out.fill(0);
    throw new CustosError('CRYPTO_DECRYPT_FAILED', 'Authentication tag did not verify', { cause });
  }
}
