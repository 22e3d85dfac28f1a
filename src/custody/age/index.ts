// Public surface of the age v1 implementation (X25519 recipients only) on node:crypto.
export { generateIdentity, parseIdentity, parseIdentityFile, parseRecipient } from './keys.ts';
export type { AgeIdentity, AgeRecipient } from './keys.ts';
export { AgeSink, MemoryOutput, encryptBytes, fileOutput } from './encrypt.ts';
export type { PositionalOutput } from './encrypt.ts';
export { AGE_MAGIC, decryptBytes, decryptStream, looksLikeAge } from './decrypt.ts';
