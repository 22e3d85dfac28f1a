// RFC 6238 TOTP over RFC 4226 HOTP (HMAC-SHA-1/256/512 from node:crypto), RFC 4648 base32 for
// shared secrets, and the otpauth:// URI authenticator apps read.
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/index.ts';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpParams {
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  /** Time step X in seconds (RFC 6238 §4.1). */
  readonly period: number;
}

export const DEFAULT_TOTP: TotpParams = { algorithm: 'sha1', digits: 6, period: 30 };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET.charAt((value << (5 - bits)) & 31);
  return out;
}

/** Decode unpadded or padded base32 (case-insensitive); undefined when malformed. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.toUpperCase().replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) return undefined;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 §5.3: HOTP value of `counter` as a zero-padded decimal string. */
export function hotp(
  secret: Uint8Array,
  counter: number,
  digits = 6,
  algorithm: TotpAlgorithm = 'sha1',
): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(msg).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return code.toString().padStart(digits, '0');
}

/** RFC 6238 §4.2: the time step of `unixSeconds`. */
export function timeStep(unixSeconds: number, period = DEFAULT_TOTP.period): number {
  return Math.floor(unixSeconds / period);
}

export function totp(secret: Uint8Array, unixSeconds: number, params: TotpParams = DEFAULT_TOTP): string {
  return hotp(secret, timeStep(unixSeconds, params.period), params.digits, params.algorithm);
}

/**
 * The time step `code` matches within ±`window` steps of `unixSeconds`, skipping steps at or before
 * `lastCounter` (a code is never accepted twice); undefined when none does.
 */
export function matchTotp(
  secret: Uint8Array,
  code: string,
  unixSeconds: number,
  lastCounter: number,
  window = 1,
  params: TotpParams = DEFAULT_TOTP,
): number | undefined {
  if (!new RegExp(`^\\d{${params.digits}}$`).test(code)) return undefined;
  const now = timeStep(unixSeconds, params.period);
  let found: number | undefined;
  // Check every candidate so timing does not depend on which step matched.
  for (let step = now - window; step <= now + window; step++) {
    const ok = constantTimeEqual(
      Buffer.from(hotp(secret, step, params.digits, params.algorithm)),
      Buffer.from(code),
    );
    if (ok && step > lastCounter && found === undefined) found = step;
  }
  return found;
}

/** The otpauth:// URI (Key Uri Format) for enrolling `secret` in an authenticator app. */
export function otpauthUri(
  secret: Uint8Array,
  account: string,
  issuer = 'Custos',
  params: TotpParams = DEFAULT_TOTP,
): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: params.algorithm.toUpperCase(),
    digits: String(params.digits),
    period: String(params.period),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
