// DSSE JSON envelopes signed with Ed25519: creation, defensive parsing (every field is
// attacker-controlled) and (t, n) threshold verification per the DSSE protocol.
import type { KeyObject } from 'node:crypto';
import { ed25519Sign, ed25519Verify } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { pae } from './pae.ts';

export interface DsseSignature {
  readonly keyid?: string;
  readonly sig: string;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

export interface DsseSigner {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

export interface DsseVerifierKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

export interface ParsedEnvelope {
  readonly envelope: DsseEnvelope;
  readonly payloadType: string;
  readonly body: Buffer;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: Buffer }[];
}

const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;
const MAX_SIGNATURES = 16;

function malformed(field: string, rule: string): CustosError {
  return new CustosError('CUSTODY_DSSE_INVALID', `DSSE envelope is malformed: ${field} ${rule}`, {
    details: { field, rule },
  });
}

/** Standard or URL-safe base64, padded or not, decoded only if canonical. */
export function decodeDsseBase64(text: string, field: string): Buffer {
  const std = /^[A-Za-z0-9+/]*={0,2}$/.test(text);
  const url = /^[A-Za-z0-9\-_]*={0,2}$/.test(text);
  if (!std && !url) throw malformed(field, 'is not base64');
  const bytes = Buffer.from(text, std ? 'base64' : 'base64url');
  const again = bytes.toString(std ? 'base64' : 'base64url').replace(/=+$/, '');
  if (again !== text.replace(/=+$/, '') || (text.includes('=') && text.length % 4 !== 0)) {
    throw malformed(field, 'is not canonical base64');
  }
  return bytes;
}

/** Sign `body` as `payloadType` with one Ed25519 key. */
export function signEnvelope(payloadType: string, body: Uint8Array, signer: DsseSigner): DsseEnvelope {
  const sig = ed25519Sign(signer.privateKey, pae(payloadType, body));
  return {
    payloadType,
    payload: Buffer.from(body).toString('base64'),
    signatures: [{ keyid: signer.keyId, sig: sig.toString('base64') }],
  };
}

/** Parse envelope JSON bytes. Throws CUSTODY_DSSE_INVALID naming the field. */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw malformed('envelope', `is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new CustosError('CUSTODY_DSSE_INVALID', 'DSSE envelope is not JSON', {
      cause,
      details: { field: 'envelope', rule: 'JSON object' },
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed('envelope', 'is not an object');
  const o = value as Record<string, unknown>;
  const { payloadType, payload, signatures } = o;
  if (typeof payloadType !== 'string') throw malformed('payloadType', 'is not a string');
  if (typeof payload !== 'string') throw malformed('payload', 'is not a string');
  if (!Array.isArray(signatures)) throw malformed('signatures', 'is not an array');
  if (signatures.length === 0 || signatures.length > MAX_SIGNATURES)
    throw malformed('signatures', `must hold 1 to ${MAX_SIGNATURES} entries`);
  const parsed = signatures.map((s: unknown, i) => {
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      throw malformed(`signatures/${i}`, 'is not an object');
    const { keyid, sig } = s as Record<string, unknown>;
    if (typeof sig !== 'string') throw malformed(`signatures/${i}/sig`, 'is not a string');
    if (keyid !== undefined && typeof keyid !== 'string')
      throw malformed(`signatures/${i}/keyid`, 'is not a string');
    return { ...(keyid === undefined ? {} : { keyid }), sig: decodeDsseBase64(sig, `signatures/${i}/sig`) };
  });
  const envelope: DsseEnvelope = {
    payloadType,
    payload,
    signatures: parsed.map((s) => ({
      ...(s.keyid === undefined ? {} : { keyid: s.keyid }),
      sig: s.sig.toString('base64'),
    })),
  };
  return { envelope, payloadType, body: decodeDsseBase64(payload, 'payload'), signatures: parsed };
}

export interface VerifyEnvelopeOptions {
  readonly keys: readonly DsseVerifierKey[];
  readonly threshold?: number;
  readonly payloadTypes: readonly string[];
}

/**
 * Verify a parsed envelope: at least `threshold` distinct keys must verify a signature over the
 * PAE, and the payload type must be supported. Resolves to the ids of the keys that verified.
 * Throws CUSTODY_SIGNATURE_INVALID or CUSTODY_DSSE_INVALID (unsupported payload type).
 */
export function verifyEnvelope(parsed: ParsedEnvelope, options: VerifyEnvelopeOptions): string[] {
  const threshold = options.threshold ?? 1;
  const message = pae(parsed.payloadType, parsed.body);
  const accepted = new Set<string>();
  for (const s of parsed.signatures) {
    const candidates = s.keyid === undefined ? options.keys : options.keys.filter((k) => k.keyId === s.keyid);
    for (const k of candidates) {
      if (accepted.has(k.keyId)) continue;
      if (ed25519Verify(k.publicKey, message, s.sig)) {
        accepted.add(k.keyId);
        break;
      }
    }
  }
  if (accepted.size < threshold) {
    throw new CustosError(
      'CUSTODY_SIGNATURE_INVALID',
      `DSSE signature does not verify (${accepted.size} of ${threshold} keys)`,
      {
        details: { field: 'signatures', rule: `${threshold} distinct trusted keys verify the PAE` },
      },
    );
  }
  if (!options.payloadTypes.includes(parsed.payloadType)) {
    throw malformed('payloadType', 'is not a supported type');
  }
  return [...accepted];
}
