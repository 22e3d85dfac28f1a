// The age payload: HKDF-derived payload key and the STREAM construction over ChaCha20-Poly1305,
// 64 KiB plaintext chunks, nonce = 11-byte big-endian counter || last-chunk flag.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';

export const CHUNK_SIZE = 64 * 1024;
export const TAG_SIZE = 16;
export const NONCE_SIZE = 16;
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;

/** HKDF-SHA-256(ikm = file key, salt = payload nonce, info = "payload"). */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

function chunkNonce(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // 11-byte counter; indexes stay far below 2^53, so the top 4 bytes of it are zero.
  nonce.writeUIntBE(index, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function sealChunk(key: Uint8Array, index: number, last: boolean, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, chunkNonce(index, last), { authTagLength: TAG_SIZE });
  const out = c.update(plaintext);
  c.final();
  return Buffer.concat([out, c.getAuthTag()]);
}

/** Open one chunk, or undefined when it does not authenticate as chunk `index` with this flag. */
export function openChunk(
  key: Uint8Array,
  index: number,
  last: boolean,
  sealed: Uint8Array,
): Buffer | undefined {
  if (sealed.length < TAG_SIZE) return undefined;
  const d = createDecipheriv('chacha20-poly1305', key, chunkNonce(index, last), { authTagLength: TAG_SIZE });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const out = d.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return out;
}

export function payloadError(rule: string): CustosError {
  return new CustosError('CUSTODY_AGE_PAYLOAD_INVALID', `age payload is invalid: ${rule}`, {
    details: { field: 'age payload', rule },
  });
}
