// age X25519 identities (AGE-SECRET-KEY-1…) and recipients (age1…): generation, strict parsing,
// and the node:crypto KeyObjects behind them.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';

export interface AgeRecipient {
  /** The age1… text. */
  readonly text: string;
  readonly publicKey: Buffer;
  readonly keyObject: KeyObject;
}

export interface AgeIdentity {
  readonly privateKey: KeyObject;
  readonly recipient: AgeRecipient;
}

function bad(field: string, rule: string): CustosError {
  return new CustosError('CUSTODY_AGE_KEY_INVALID', `age key is invalid: ${rule}`, {
    details: { field, rule },
  });
}

export function x25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
}

export function x25519PrivateFromRaw(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicRaw(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

function x25519SecretRaw(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(der.length - 32));
}

function recipientOf(publicKey: Buffer): AgeRecipient {
  return {
    text: bech32Encode(RECIPIENT_HRP, publicKey),
    publicKey,
    keyObject: x25519PublicFromRaw(publicKey),
  };
}

/** Parse an `age1…` recipient. Throws CUSTODY_AGE_KEY_INVALID. */
export function parseRecipient(text: string, field = 'recipient'): AgeRecipient {
  const trimmed = text.trim();
  if (trimmed !== trimmed.toLowerCase()) throw bad(field, 'recipients are lowercase');
  const { hrp, data } = bech32Decode(trimmed);
  if (hrp !== RECIPIENT_HRP) throw bad(field, 'not an age1… X25519 recipient');
  if (data.length !== 32) throw bad(field, 'X25519 public key must be 32 bytes');
  return recipientOf(data);
}

/** Parse an `AGE-SECRET-KEY-1…` identity. Throws CUSTODY_AGE_KEY_INVALID. */
export function parseIdentity(text: string, field = 'identity'): AgeIdentity {
  const trimmed = text.trim();
  if (trimmed !== trimmed.toUpperCase()) throw bad(field, 'identities are uppercase');
  const { hrp, data } = bech32Decode(trimmed);
  if (hrp !== IDENTITY_HRP) throw bad(field, 'not an AGE-SECRET-KEY-1… identity');
  if (data.length !== 32) throw bad(field, 'X25519 secret key must be 32 bytes');
  const privateKey = x25519PrivateFromRaw(data);
  return { privateKey, recipient: recipientOf(x25519PublicRaw(createPublicKey(privateKey))) };
}

/** Parse an identity file as age-keygen writes it: `#` comments, blank lines, one identity per line. */
export function parseIdentityFile(text: string, field = 'identity file'): AgeIdentity[] {
  const out: AgeIdentity[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push(parseIdentity(t, field));
  }
  if (out.length === 0) throw bad(field, 'no AGE-SECRET-KEY-1… line');
  return out;
}

/** A fresh identity and its text encodings. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    identity: bech32Encode(IDENTITY_HRP, x25519SecretRaw(privateKey)).toUpperCase(),
    recipient: bech32Encode(RECIPIENT_HRP, x25519PublicRaw(publicKey)),
  };
}
