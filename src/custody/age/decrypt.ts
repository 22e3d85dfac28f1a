// Streaming age decryption with X25519 identities. Plaintext is released chunk by chunk, only
// after each chunk authenticates; truncation, reordering and a missing final chunk are failures.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';
import { ByteReader, bytesSource } from '../io/byte-reader.ts';
import { readHeader } from './header.ts';
import type { AgeIdentity } from './keys.ts';
import { ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, openChunk, payloadError, payloadKey, TAG_SIZE } from './stream.ts';
import { unwrapX25519 } from './x25519-stanza.ts';

export const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n', 'latin1');

/** True when `head` (the first bytes of a file) starts like a binary age file. */
export function looksLikeAge(head: Uint8Array): boolean {
  return head.byteLength >= AGE_MAGIC.length && AGE_MAGIC.equals(head.subarray(0, AGE_MAGIC.length));
}

/**
 * Decrypt an age stream. Throws CUSTODY_AGE_HEADER_INVALID, CUSTODY_AGE_NO_MATCH,
 * CUSTODY_AGE_HMAC_INVALID or CUSTODY_AGE_PAYLOAD_INVALID (after releasing the chunks that verified).
 */
export async function* decryptStream(
  source: AsyncIterable<Uint8Array>,
  identities: readonly AgeIdentity[],
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  try {
    const header = await readHeader(reader);
    let fileKey: Buffer | undefined;
    for (const stanza of header.stanzas) {
      for (const identity of identities) {
        // Every X25519 stanza is parsed strictly, even after a match, so malformed headers always fail.
        const key = unwrapX25519(stanza, identity);
        fileKey ??= key;
      }
    }
    if (fileKey === undefined) {
      throw new CustosError('CUSTODY_AGE_NO_MATCH', 'No identity matches a recipient of this age file', {
        details: { field: 'identity', rule: 'an identity for one of the recipients' },
      });
    }
    const hmacKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
    const mac = createHmac('sha256', hmacKey).update(header.macInput).digest();
    if (!timingSafeEqual(mac, header.mac)) {
      throw new CustosError('CUSTODY_AGE_HMAC_INVALID', 'age header MAC does not verify', {
        details: { field: 'age header', rule: 'HMAC-SHA-256 over the header' },
      });
    }
    const nonce = await reader.readExact(NONCE_SIZE);
    if (nonce.length < NONCE_SIZE) throw payloadError('payload nonce is truncated');
    const key = payloadKey(fileKey, nonce);
    for (let index = 0; ; index++) {
      const sealed = await reader.readExact(ENCRYPTED_CHUNK_SIZE);
      if (sealed.length === 0)
        throw payloadError(index === 0 ? 'no payload chunks' : 'final chunk is missing');
      if (sealed.length < TAG_SIZE) throw payloadError('chunk is shorter than its tag');
      if (sealed.length === ENCRYPTED_CHUNK_SIZE) {
        const middle = openChunk(key, index, false, sealed);
        if (middle !== undefined) {
          yield middle;
          continue;
        }
      }
      const last = openChunk(key, index, true, sealed);
      if (last === undefined) throw payloadError(`chunk ${index} does not authenticate`);
      if (last.length === 0 && index > 0) throw payloadError('final chunk is empty');
      const extra = await reader.readSome(1);
      if (extra.length > 0) throw payloadError('data after the final chunk');
      if (last.length > 0) yield last;
      return;
    }
  } finally {
    await reader.cancel();
  }
}

/** Decrypt a whole buffer (tests and small files). */
export async function decryptBytes(
  ciphertext: Uint8Array,
  identities: readonly AgeIdentity[],
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of decryptStream(bytesSource(ciphertext), identities)) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}
