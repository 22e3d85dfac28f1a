// NIST SP 800-38G (Rev. 1) FF1 format-preserving encryption over AES from node:crypto.
// Numeral-level Feistel rounds plus an alphabet wrapper that maps text to numerals and back.
import { createCipheriv, createSecretKey, type Cipheriv } from 'node:crypto';
import { CustosError } from '../errors/index.ts';

/** Decimal digits, radix 10. */
export const DIGITS = '0123456789';
/** Lower-case hexadecimal, radix 16. */
export const HEX_LOWER = '0123456789abcdef';
/** Lower-case Latin letters, radix 26. */
export const LOWER_ALPHA = 'abcdefghijklmnopqrstuvwxyz';
/** Upper-case Latin letters, radix 26. */
export const UPPER_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Digits then lower-case letters, radix 36 (the order of the NIST radix-36 samples). */
export const LOWER_ALNUM = DIGITS + LOWER_ALPHA;
/** Digits then upper-case letters, radix 36. */
export const UPPER_ALNUM = DIGITS + UPPER_ALPHA;
/** Digits, upper-case then lower-case letters, radix 62. */
export const ALNUM = DIGITS + UPPER_ALPHA + LOWER_ALPHA;

/** SP 800-38G Rev. 1 §5.2: radix in [2..2^16], radix^minlen ≥ 10^6, maxlen < 2^32. */
export const FF1_MIN_RADIX = 2;
export const FF1_MAX_RADIX = 65_536;
export const FF1_MAX_LENGTH = 2 ** 32 - 1;
/** The tweak length is encoded in four bytes of P. */
export const FF1_MAX_TWEAK_BYTES = 2 ** 32 - 1;
const MIN_DOMAIN = 1_000_000;
const ROUNDS = 10;
const BLOCK = 16;

function invalid(field: string, rule: string, message: string): CustosError {
  return new CustosError('CRYPTO_FF1_INVALID_INPUT', message, { details: { field, rule } });
}

function checkRadix(radix: number): void {
  if (!Number.isInteger(radix) || radix < FF1_MIN_RADIX || radix > FF1_MAX_RADIX) {
    throw invalid('radix', 'integer from 2 to 65536', 'FF1 radix must be an integer from 2 to 65536');
  }
}

/** Smallest length whose domain radix^len reaches one million (and never below 2). Throws CRYPTO_FF1_INVALID_INPUT. */
export function ff1MinLength(radix: number): number {
  checkRadix(radix);
  let len = 1;
  for (let size = radix; size < MIN_DOMAIN; size *= radix) len++;
  return Math.max(2, len);
}

/** FF1 numerals, not text: each entry an integer in [0, radix). */
export type Ff1Numerals = readonly number[];

/** FF1 keyed for one radix; holds the AES key schedule for reuse across calls. */
class Ff1Engine {
  readonly radix: number;
  readonly minLength: number;
  readonly #ecb: Cipheriv;
  readonly #radixBig: bigint;
  /** Digits per chunk so that radix^chunk ≤ 2^53 and NUM/STR can run in Number arithmetic. */
  readonly #chunk: number;
  readonly #chunkPow: bigint;
  /** CIPH_K(P) per (n, t): P is fixed for a length and tweak size, so its block is computed once. */
  readonly #pBlocks = new Map<string, Buffer>();
  readonly #scratch = Buffer.alloc(BLOCK);

  constructor(key: Uint8Array, radix: number) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new CustosError('CRYPTO_INVALID_KEY', 'FF1 key must be an AES key of 16, 24 or 32 bytes', {
        details: { field: 'key', rule: 'length 16, 24 or 32' },
      });
    }
    this.minLength = ff1MinLength(radix);
    this.radix = radix;
    this.#radixBig = BigInt(radix);
    let chunk = 1;
    while (radix ** (chunk + 1) <= 2 ** 53) chunk++;
    this.#chunk = chunk;
    this.#chunkPow = BigInt(radix) ** BigInt(chunk);
    // One ECB context, never finalized: ECB has no chaining state and padding is off, so every update()
    // of whole blocks is an independent CIPH_K call, and the key schedule is built once.
    this.#ecb = createCipheriv(`aes-${key.length * 8}-ecb`, createSecretKey(key), null).setAutoPadding(false);
  }

  encrypt(numerals: Ff1Numerals, tweak: Uint8Array): number[] {
    return this.#run(numerals, tweak, true);
  }

  decrypt(numerals: Ff1Numerals, tweak: Uint8Array): number[] {
    return this.#run(numerals, tweak, false);
  }

  #run(x: Ff1Numerals, tweak: Uint8Array, forward: boolean): number[] {
    this.#checkNumerals(x);
    if (!(tweak instanceof Uint8Array) || tweak.length > FF1_MAX_TWEAK_BYTES) {
      throw invalid('tweak', 'bytes, at most 2^32-1', 'FF1 tweak must be a byte array shorter than 2^32');
    }
    const n = x.length;
    const t = tweak.length;
    const u = Math.floor(n / 2);
    const v = n - u;
    const modU = this.#radixBig ** BigInt(u);
    const modV = u === v ? modU : modU * this.#radixBig;
    // b = ceil(ceil(v·log2 radix) / 8) computed exactly: the byte length of radix^v − 1.
    const b = Math.ceil((modV - 1n).toString(2).length / 8);
    const d = 4 * Math.ceil(b / 4) + 4;
    const pad = ((-(t + b + 1) % BLOCK) + BLOCK) % BLOCK;

    // CBC-MAC state after P and every whole block of T || 0^pad: the same in all ten rounds.
    const prefix = Buffer.alloc(t + pad);
    prefix.set(tweak);
    const whole = prefix.length - (prefix.length % BLOCK);
    let h = this.#pBlock(u, n, t);
    for (let off = 0; off < whole; off += BLOCK) h = this.#chain(h, prefix, off);
    const tail = Buffer.alloc(prefix.length - whole + 1 + b);
    prefix.copy(tail, 0, whole);
    const iAt = prefix.length - whole;

    let numA = this.#num(x, 0, u);
    let numB = this.#num(x, u, n);
    for (let k = 0; k < ROUNDS; k++) {
      const i = forward ? k : ROUNDS - 1 - k;
      const m = i % 2 === 0 ? modU : modV;
      tail[iAt] = i;
      writeBig(tail, iAt + 1, b, forward ? numB : numA);
      let r = h;
      for (let off = 0; off < tail.length; off += BLOCK) r = this.#chain(r, tail, off);
      const y = this.#expand(r, d);
      if (forward) {
        const c = (numA + y) % m;
        numA = numB;
        numB = c;
      } else {
        const c = (((numB - y) % m) + m) % m;
        numB = numA;
        numA = c;
      }
    }
    const out = new Array<number>(n);
    this.#str(numA, out, 0, u);
    this.#str(numB, out, u, n);
    return out;
  }

  #checkNumerals(x: Ff1Numerals): void {
    if (!Array.isArray(x)) {
      throw invalid('numerals', 'array of integers', 'FF1 input must be an array of numerals');
    }
    if (x.length < this.minLength || x.length > FF1_MAX_LENGTH) {
      throw invalid(
        'numerals',
        `length from ${this.minLength} to 2^32-1`,
        `FF1 input length must be at least ${this.minLength} for radix ${this.radix}`,
      );
    }
    for (const numeral of x) {
      if (!Number.isInteger(numeral) || numeral < 0 || numeral >= this.radix) {
        throw invalid(
          'numerals',
          `integers in [0, ${this.radix})`,
          'FF1 input has a numeral outside the radix',
        );
      }
    }
  }

  /** CIPH_K(P) with P = [1,2,1] || [radix]^3 || [10] || [u mod 256] || [n]^4 || [t]^4. */
  #pBlock(u: number, n: number, t: number): Buffer {
    const id = `${n}:${t}`;
    const cached = this.#pBlocks.get(id);
    if (cached !== undefined) return cached;
    const p = Buffer.from([1, 2, 1, 0, 0, 0, 10, u % 256, 0, 0, 0, 0, 0, 0, 0, 0]);
    p.writeUIntBE(this.radix, 3, 3);
    p.writeUInt32BE(n, 8);
    p.writeUInt32BE(t, 12);
    const block = this.#ecb.update(p);
    if (this.#pBlocks.size >= 256) this.#pBlocks.clear();
    this.#pBlocks.set(id, block);
    return block;
  }

  /** One CBC step: CIPH_K(h ⊕ data[off..off+16]). */
  #chain(h: Buffer, data: Buffer, off: number): Buffer {
    const x = this.#scratch;
    for (let j = 0; j < BLOCK; j += 4) x.writeInt32BE(h.readInt32BE(j) ^ data.readInt32BE(off + j), j);
    return this.#ecb.update(x);
  }

  /** y = NUM(S), S the first d bytes of R || CIPH_K(R ⊕ [1]^16) || CIPH_K(R ⊕ [2]^16) || … */
  #expand(r: Buffer, d: number): bigint {
    if (d <= 8) return r.readBigUInt64BE(0) >> BigInt(64 - 8 * d);
    if (d <= BLOCK) return BigInt('0x' + r.toString('hex', 0, d));
    const extra = Math.ceil(d / BLOCK) - 1;
    const blocks = Buffer.alloc(extra * BLOCK);
    for (let j = 1; j <= extra; j++) {
      const off = (j - 1) * BLOCK;
      r.copy(blocks, off);
      blocks.writeUInt32BE((blocks.readUInt32BE(off + 12) ^ j) >>> 0, off + 12);
    }
    const s = Buffer.concat([r, this.#ecb.update(blocks)]);
    return BigInt('0x' + s.toString('hex', 0, d));
  }

  /** NUM_radix of x[from..to), a chunk of digits at a time in Number arithmetic. */
  #num(x: Ff1Numerals, from: number, to: number): bigint {
    const radix = this.radix;
    let i = from;
    let acc = 0;
    const head = from + ((to - from) % this.#chunk);
    for (; i < head; i++) acc = acc * radix + (x[i] ?? 0);
    let value = BigInt(acc);
    while (i < to) {
      acc = 0;
      for (let j = 0; j < this.#chunk; j++) acc = acc * radix + (x[i++] ?? 0);
      value = value * this.#chunkPow + BigInt(acc);
    }
    return value;
  }

  /** STR^m_radix of value into out[from..to), m = to − from; value < radix^m. */
  #str(value: bigint, out: number[], from: number, to: number): void {
    const radix = this.radix;
    let pos = to;
    let rest = value;
    while (pos > from) {
      let part: number;
      if (pos - from > this.#chunk) {
        part = Number(rest % this.#chunkPow);
        rest /= this.#chunkPow;
      } else {
        part = Number(rest);
      }
      const stop = Math.max(from, pos - this.#chunk);
      while (pos > stop) {
        out[--pos] = part % radix;
        part = Math.floor(part / radix);
      }
    }
  }
}

/** [value]^len, big-endian, into buf at off; value < 256^len. */
function writeBig(buf: Buffer, off: number, len: number, value: bigint): void {
  if (len <= 6) buf.writeUIntBE(Number(value), off, len);
  else buf.write(value.toString(16).padStart(2 * len, '0'), off, len, 'hex');
}

/**
 * FF1-encrypt numerals in the given radix under an AES-128/192/256 key.
 * Throws CRYPTO_INVALID_KEY for a bad key length and CRYPTO_FF1_INVALID_INPUT for a bad radix, length,
 * numeral or tweak.
 */
export function ff1EncryptNumerals(
  key: Uint8Array,
  radix: number,
  tweak: Uint8Array,
  numerals: Ff1Numerals,
): number[] {
  return new Ff1Engine(key, radix).encrypt(numerals, tweak);
}

/** Inverse of {@link ff1EncryptNumerals}; throws the same codes. */
export function ff1DecryptNumerals(
  key: Uint8Array,
  radix: number,
  tweak: Uint8Array,
  numerals: Ff1Numerals,
): number[] {
  return new Ff1Engine(key, radix).decrypt(numerals, tweak);
}

/** FF1 over an alphabet, keyed once: text in, text of the same length and alphabet out. Methods are unbound. */
export interface Ff1 {
  readonly alphabet: string;
  readonly radix: number;
  /** Shortest text accepted: radix^minLength ≥ 1,000,000. */
  readonly minLength: number;
  /** Throws CRYPTO_FF1_INVALID_INPUT for a character outside the alphabet, a bad length or a bad tweak. */
  readonly encrypt: (text: string, tweak: Uint8Array) => string;
  /** Throws CRYPTO_FF1_INVALID_INPUT for a character outside the alphabet, a bad length or a bad tweak. */
  readonly decrypt: (text: string, tweak: Uint8Array) => string;
}

/**
 * FF1 keyed for an alphabet of unique characters (Unicode code points); radix = alphabet length.
 * Throws CRYPTO_INVALID_KEY for a bad key length, CRYPTO_FF1_INVALID_INPUT for a duplicate character or
 * an alphabet shorter than 2 or longer than 65536.
 */
export function createFf1(key: Uint8Array, alphabet: string): Ff1 {
  const chars = Array.from(alphabet);
  if (chars.length < FF1_MIN_RADIX || chars.length > FF1_MAX_RADIX) {
    throw invalid('alphabet', '2 to 65536 characters', 'FF1 alphabet must have from 2 to 65536 characters');
  }
  const index = new Map<string, number>();
  chars.forEach((c, i) => index.set(c, i));
  if (index.size !== chars.length) {
    throw invalid('alphabet', 'unique characters', 'FF1 alphabet has a duplicate character');
  }
  const engine = new Ff1Engine(key, chars.length);
  const toNumerals = (text: string): number[] => {
    if (typeof text !== 'string') throw invalid('text', 'string', 'FF1 input must be a string');
    const out: number[] = [];
    for (const c of text) {
      const i = index.get(c);
      if (i === undefined) {
        throw invalid(
          'text',
          'characters from the alphabet',
          'FF1 input has a character outside the alphabet',
        );
      }
      out.push(i);
    }
    return out;
  };
  const toText = (numerals: readonly number[]): string => numerals.map((i) => chars[i] ?? '').join('');
  return {
    alphabet,
    radix: engine.radix,
    minLength: engine.minLength,
    encrypt: (text, tweak) => toText(engine.encrypt(toNumerals(text), tweak)),
    decrypt: (text, tweak) => toText(engine.decrypt(toNumerals(text), tweak)),
  };
}
