// C2SP signed-note: Ed25519 signer and verifier keys (`<name>+<hex key id>+<base64(0x01 || key)>`),
// signing a text, and opening a note against known verifiers the way golang.org/x/mod/sumdb/note does:
// unknown signatures are ignored, a bad signature from a known key rejects the whole note.
import type { KeyObject } from 'node:crypto';
import {
  constantTimeEqual,
  ed25519FromSeed,
  ed25519PublicFromRaw,
  ed25519PublicRaw,
  ed25519Sign,
  ed25519Verify,
  sha256,
} from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { defined, hasControl } from './must.ts';

/** Signature type identifier of Ed25519 in signed-note key ids and verifier keys. */
export const ED25519_ALG = 0x01;
/** Notes above this size are refused before parsing. */
export const MAX_NOTE_BYTES = 1 << 20;
const MAX_SIGNATURES = 100;
const SIG_PREFIX = '— ';

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** base64(key id || signature), as on the signature line. */
  readonly base64: string;
}

export interface OpenedNote {
  readonly text: string;
  readonly verified: readonly NoteSignature[];
  readonly unverified: readonly NoteSignature[];
}

function malformed(rule: string): CustosError {
  return new CustosError('LEDGER_NOTE_MALFORMED', `Signed note is malformed: ${rule}`, {
    details: { field: 'note', rule },
  });
}

function keyError(rule: string): CustosError {
  return new CustosError('LEDGER_VERIFIER_KEY_INVALID', `Verifier key is invalid: ${rule}`, {
    details: { field: 'key', rule },
  });
}

/** Key names are non-empty and contain neither Unicode spaces nor `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !/[\s+\u0085\u180e]/u.test(name);
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4], big-endian. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  return sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.of(ED25519_ALG), publicKey).readUInt32BE(0);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Strict standard base64 (RFC 4648 §4, padded, canonical). Returns undefined when not. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The verifier key string of an Ed25519 public key: `<name>+<key id hex>+<base64(0x01 || key)>`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw keyError('key name must be non-empty without spaces or +');
  const encoded = Buffer.concat([Buffer.of(ED25519_ALG), publicKey]).toString('base64');
  return `${name}+${hex8(ed25519KeyId(name, publicKey))}+${encoded}`;
}

/** An Ed25519 verifier from a verifier key string. Throws LEDGER_VERIFIER_KEY_INVALID. */
export function parseVerifierKey(vkey: string): NoteVerifier & { readonly publicKey: Buffer } {
  if (vkey.length > 512) throw keyError('longer than 512 characters');
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw keyError('expected <name>+<key id>+<key>');
  const name = vkey.slice(0, first);
  const idText = vkey.slice(first + 1, second);
  const key = decodeBase64Strict(vkey.slice(second + 1));
  if (!isValidKeyName(name)) throw keyError('key name must be non-empty without spaces or +');
  if (!/^[0-9a-f]{8}$/.test(idText)) throw keyError('key id must be 8 lowercase hex digits');
  if (key?.length !== 33) throw keyError('key must be base64 of 33 bytes');
  if (key[0] !== ED25519_ALG) throw keyError('only Ed25519 keys (type 0x01) are supported');
  const publicKey = key.subarray(1);
  const keyId = Number.parseInt(idText, 16);
  if (keyId !== ed25519KeyId(name, publicKey)) throw keyError('key id does not match the name and key');
  let keyObject: KeyObject;
  try {
    keyObject = ed25519PublicFromRaw(publicKey);
  } catch (cause) {
    throw new CustosError('LEDGER_VERIFIER_KEY_INVALID', 'Verifier key is not an Ed25519 public key', {
      cause,
      details: { field: 'key', rule: 'Ed25519 public key' },
    });
  }
  return ed25519Verifier(name, keyObject, publicKey);
}

/** A verifier for a known public key. */
export function ed25519Verifier(
  name: string,
  publicKey: KeyObject,
  raw: Buffer = ed25519PublicRaw(publicKey),
): NoteVerifier & { readonly publicKey: Buffer } {
  const keyId = ed25519KeyId(name, raw);
  return {
    name,
    keyId,
    publicKey: raw,
    verify: (message, signature) => ed25519Verify(publicKey, message, signature),
  };
}

/** A signer from a 32-byte Ed25519 seed. */
export function ed25519Signer(name: string, seed: Uint8Array): NoteSigner & { readonly publicKey: Buffer } {
  if (!isValidKeyName(name)) throw keyError('key name must be non-empty without spaces or +');
  const { privateKey, publicKey } = ed25519FromSeed(seed);
  const raw = ed25519PublicRaw(publicKey);
  return {
    name,
    keyId: ed25519KeyId(name, raw),
    publicKey: raw,
    sign: (message) => ed25519Sign(privateKey, message),
  };
}

function checkCharacters(text: string): void {
  if (hasControl(text, true)) throw malformed('control character other than newline');
}

/** Sign `text` (which must end in a newline) with each signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) throw malformed('text must end with a newline');
  checkCharacters(text);
  if (signers.length === 0) throw malformed('at least one signer is required');
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    const id = Buffer.allocUnsafe(4);
    id.writeUInt32BE(s.keyId, 0);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([id, s.sign(message)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** Decode note bytes as UTF-8, strictly. Throws LEDGER_NOTE_MALFORMED. */
export function decodeNote(bytes: Uint8Array, maxBytes = MAX_NOTE_BYTES): string {
  if (bytes.length > maxBytes) throw malformed(`larger than ${maxBytes} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw malformed('not valid UTF-8');
  }
}

/** Split a note into text and signature lines without verifying. Throws LEDGER_NOTE_MALFORMED. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[]; raw: Buffer[] } {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
  if (!note.isWellFormed()) throw malformed('not valid Unicode');
  checkCharacters(note);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw malformed('signature block must end with a newline');
  const signatures: NoteSignature[] = [];
  const raw: Buffer[] = [];
  for (const line of block.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX))
      throw malformed('signature line must start with an em dash and a space');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    const sig = decodeBase64Strict(b64);
    if (!isValidKeyName(name) || b64 === '' || sig === undefined || sig.length < 5) {
      throw malformed('signature line must be "— <name> <base64(key id || signature)>"');
    }
    if (signatures.length >= MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
    signatures.push({ name, keyId: sig.readUInt32BE(0), base64: b64 });
    raw.push(sig.subarray(4));
  }
  return { text, signatures, raw };
}

/**
 * Open a signed note: verify every signature by a known key, ignore unknown ones.
 * Throws LEDGER_NOTE_MALFORMED, LEDGER_CHECKPOINT_SIGNATURE_INVALID when a known key's signature
 * fails or when no known key signed it.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures, raw } = parseNote(note);
  const message = Buffer.from(text, 'utf8');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  signatures.forEach((s, i) => {
    const signature = defined(raw[i], 'signature bytes');
    const key = `${s.name}+${hex8(s.keyId)}`;
    const v = verifiers.find((x) => x.name === s.name && x.keyId === s.keyId);
    if (v === undefined) {
      if (!unverified.some((u) => u.name === s.name && u.keyId === s.keyId && u.base64 === s.base64))
        unverified.push(s);
      return;
    }
    if (seen.has(key)) return;
    seen.add(key);
    if (!v.verify(message, signature)) {
      throw new CustosError('LEDGER_CHECKPOINT_SIGNATURE_INVALID', `Signature by ${key} does not verify`, {
        details: { field: 'signature', rule: 'valid Ed25519 signature over the note text', key },
      });
    }
    verified.push(s);
  });
  if (verified.length === 0) {
    throw new CustosError(
      'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
      'The note carries no signature by a known key',
      {
        details: { field: 'signature', rule: 'signed by the expected key' },
      },
    );
  }
  return { text, verified, unverified };
}

/** True when two verifier keys name the same key. */
export function sameKey(
  a: { name: string; publicKey: Buffer },
  b: { name: string; publicKey: Buffer },
): boolean {
  return a.name === b.name && constantTimeEqual(a.publicKey, b.publicKey);
}
