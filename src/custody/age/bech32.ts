// Bech32 (BIP 173) as age uses it for recipients and identities: checksum per BIP 173 (not
// bech32m), no 90-character limit, one case per string.
import { CustosError } from '../../errors/index.ts';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if (((top >>> i) & 1) !== 0) chk ^= GENERATOR[i] ?? 0;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return undefined;
  }
  return out;
}

function bad(rule: string): CustosError {
  return new CustosError('CUSTODY_AGE_KEY_INVALID', `Key encoding is invalid: ${rule}`, {
    details: { field: 'key', rule },
  });
}

/** Encode `data` under the lowercase human-readable part `hrp`. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true) ?? [];
  const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/** Decode a bech32 string. Throws CUSTODY_AGE_KEY_INVALID naming the broken rule. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } {
  if (text.length > 1024) throw bad('too long');
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) throw bad('mixed case');
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) throw bad('missing separator or checksum');
  const hrp = lower.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) throw bad('invalid prefix character');
  }
  const words: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) throw bad('invalid character');
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) throw bad('checksum mismatch');
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (bytes === undefined) throw bad('invalid padding');
  return { hrp, data: Buffer.from(bytes) };
}
