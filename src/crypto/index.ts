// Public surface of crypto/: primitives on node:crypto only (AEAD, hashes, HMAC, HKDF, Ed25519,
// constant-time compare, RFC 8785 canonical JSON, NIST SP 800-38G FF1).
export { seal, open, AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './aead.ts';
export type { AesKey } from './aead.ts';
export { randomBytes } from './random.ts';
export { sha256, sha512, sha256Hex, hmacSha256, hkdf } from './hash.ts';
export { constantTimeEqual } from './compare.ts';
export {
  generateEd25519,
  ed25519FromSeed,
  ed25519Seed,
  ed25519PublicRaw,
  ed25519PublicFromRaw,
  ed25519PublicPem,
  ed25519Sign,
  ed25519Verify,
} from './ed25519.ts';
export type { Ed25519KeyPair } from './ed25519.ts';
export { canonicalJson, canonicalJsonBytes } from './canonical-json.ts';
export type { JsonValue } from './canonical-json.ts';
export {
  createFf1,
  ff1EncryptNumerals,
  ff1DecryptNumerals,
  ff1MinLength,
  DIGITS,
  HEX_LOWER,
  LOWER_ALPHA,
  UPPER_ALPHA,
  LOWER_ALNUM,
  UPPER_ALNUM,
  ALNUM,
} from './ff1.ts';
export type { Ff1, Ff1Numerals } from './ff1.ts';
