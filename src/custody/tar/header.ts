// POSIX ustar header blocks (IEEE 1003.1-1988 / pax "ustar" interchange format): encoding with
// deterministic fields, strict decoding that treats every field as attacker-controlled.
import { CustosError } from '../../errors/index.ts';
import { USTAR_MAX_SIZE } from '../limits.ts';

export const BLOCK = 512;

export type TarEntryType = 'file' | 'directory';

export interface TarHeader {
  readonly name: string;
  readonly type: TarEntryType;
  readonly size: number;
  readonly mode: number;
  readonly mtime: number;
}

const OFF = {
  name: 0,
  mode: 100,
  uid: 108,
  gid: 116,
  size: 124,
  mtime: 136,
  chksum: 148,
  typeflag: 156,
  linkname: 157,
  magic: 257,
  version: 263,
  uname: 265,
  gname: 297,
  devmajor: 329,
  devminor: 337,
  prefix: 345,
} as const;

const MAGIC = Buffer.from('ustar\0', 'latin1');
const VERSION = Buffer.from('00', 'latin1');

function invalid(rule: string, name?: string): CustosError {
  return new CustosError('CUSTODY_TAR_INVALID', `Archive header is invalid: ${rule}`, {
    details: { field: name ?? 'tar header', rule },
  });
}

function unsafe(name: string, rule: string): CustosError {
  return new CustosError('CUSTODY_TAR_UNSAFE_ENTRY', `Archive entry is refused: ${rule}`, {
    details: { field: printable(name), rule },
  });
}

/** A name safe to echo in messages: control characters escaped, length capped. */
export function printable(name: string): string {
  const shown = name.length > 120 ? `${name.slice(0, 120)}…` : name;
  return shown.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Why `name` is not a relative path that stays inside an extraction root (absolute path, drive
 * letter, `.`/`..`/empty component, backslash, control character), or undefined when it is safe.
 */
export function unsafeReason(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'drive-letter path';
  if (name.includes('\\')) return 'backslash in path';
  if (/\p{Cc}/u.test(name)) return 'control character in path';
  for (const part of name.split('/')) {
    if (part === '..') return 'parent directory component (..)';
    if (part === '.' || part === '') return 'empty or "." path component';
  }
  return undefined;
}

/** Throws CUSTODY_TAR_UNSAFE_ENTRY when {@link unsafeReason} finds a problem. */
export function assertSafeName(name: string): void {
  const reason = unsafeReason(name);
  if (reason !== undefined) throw unsafe(name, reason);
}

function writeString(block: Buffer, offset: number, length: number, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > length) throw invalid(`field at ${offset} too long`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw invalid(`number does not fit ${length - 1} octal digits`);
  block.write(`${digits}\0`, offset, length, 'latin1');
}

/** Split a name into ustar `prefix` and `name` fields (at a slash), or throw if it cannot fit. */
function splitName(name: string): { prefix: Buffer; base: Buffer } {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= 100) return { prefix: Buffer.alloc(0), base: bytes };
  for (let i = bytes.length - 1; i > 0; i--) {
    if (bytes[i] !== 0x2f) continue;
    const prefix = bytes.subarray(0, i);
    const base = bytes.subarray(i + 1);
    if (prefix.length <= 155 && base.length <= 100 && base.length > 0) return { prefix, base };
  }
  throw new CustosError('CUSTODY_TAR_LIMIT_EXCEEDED', 'Entry name does not fit a ustar header', {
    details: {
      field: printable(name),
      rule: 'name ≤ 100 bytes, or prefix ≤ 155 + name ≤ 100 split at a slash',
    },
  });
}

/** Encode a deterministic header: mode 0644/0755, uid/gid 0, no user names, the given mtime. */
export function encodeHeader(entry: TarHeader): Buffer {
  assertSafeName(entry.name);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > USTAR_MAX_SIZE) {
    throw new CustosError('CUSTODY_TAR_LIMIT_EXCEEDED', 'Entry is larger than ustar allows', {
      details: { field: printable(entry.name), rule: `size ≤ ${USTAR_MAX_SIZE}` },
    });
  }
  const block = Buffer.alloc(BLOCK);
  const { prefix, base } = splitName(entry.name);
  writeString(block, OFF.name, 100, base);
  writeOctal(block, OFF.mode, 8, entry.mode);
  writeOctal(block, OFF.uid, 8, 0);
  writeOctal(block, OFF.gid, 8, 0);
  writeOctal(block, OFF.size, 12, entry.size);
  writeOctal(block, OFF.mtime, 12, entry.mtime);
  block.fill(0x20, OFF.chksum, OFF.chksum + 8);
  block[OFF.typeflag] = entry.type === 'directory' ? 0x35 : 0x30;
  MAGIC.copy(block, OFF.magic);
  VERSION.copy(block, OFF.version);
  writeOctal(block, OFF.devmajor, 8, 0);
  writeOctal(block, OFF.devminor, 8, 0);
  writeString(block, OFF.prefix, 155, prefix);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, OFF.chksum, 8, 'latin1');
  return block;
}

/** Parse a NUL/space-terminated octal field strictly; base-256 (GNU) and garbage are refused. */
function readOctal(block: Buffer, offset: number, length: number, field: string): number {
  const raw = block.subarray(offset, offset + length);
  if (((raw[0] ?? 0) & 0x80) !== 0) throw invalid(`${field} uses the non-POSIX base-256 encoding`);
  const text = raw.toString('latin1');
  const m = /^ *([0-7]*)[ \0]*$/.exec(text);
  if (m === null) throw invalid(`${field} is not an octal number`);
  const digits = m[1] ?? '';
  if (digits.length === 0) return 0;
  const value = Number.parseInt(digits, 8);
  if (!Number.isSafeInteger(value)) throw invalid(`${field} is out of range`);
  return value;
}

function readString(block: Buffer, offset: number, length: number, field: string): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  const bytes = end < 0 ? raw : raw.subarray(0, end);
  if (end >= 0 && raw.subarray(end).some((b) => b !== 0))
    throw invalid(`${field} has bytes after its terminator`);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw invalid(`${field} is not valid UTF-8`);
  return text;
}

const TYPE_REFUSALS: Readonly<Record<string, string>> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file',
  x: 'pax extended header',
  g: 'pax global header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

/** True when the block is all zero bytes (part of the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/**
 * Decode and check one header block. Throws CUSTODY_TAR_INVALID (checksum, magic, fields),
 * CUSTODY_TAR_UNSAFE_ENTRY (links, devices, unsafe names).
 */
export function decodeHeader(block: Buffer): TarHeader {
  if (block.length !== BLOCK) throw invalid('truncated header block');
  if (
    !block.subarray(OFF.magic, OFF.magic + 6).equals(MAGIC) ||
    !block.subarray(OFF.version, OFF.version + 2).equals(VERSION)
  ) {
    throw invalid('not a POSIX ustar header (magic "ustar\\0" version "00")');
  }
  const stored = readOctal(block, OFF.chksum, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= OFF.chksum && i < OFF.chksum + 8 ? 0x20 : (block[i] ?? 0);
  if (sum !== stored) throw invalid('header checksum mismatch');
  const base = readString(block, OFF.name, 100, 'name');
  const prefix = readString(block, OFF.prefix, 155, 'prefix');
  const name = prefix.length > 0 ? `${prefix}/${base}` : base;
  const flag = String.fromCharCode(block[OFF.typeflag] ?? 0);
  const refused = TYPE_REFUSALS[flag];
  if (refused !== undefined) throw unsafe(name, `${refused} entries are not allowed`);
  let type: TarEntryType;
  if (flag === '0' || flag === '\0') type = 'file';
  else if (flag === '5') type = 'directory';
  else throw unsafe(name, `entry type ${JSON.stringify(flag)} is not allowed`);
  const trimmed = type === 'directory' && name.endsWith('/') ? name.slice(0, -1) : name;
  assertSafeName(trimmed);
  const size = readOctal(block, OFF.size, 12, 'size');
  if (type === 'directory' && size !== 0) throw invalid('directory entry with content', trimmed);
  return {
    name: trimmed,
    type,
    size,
    mode: readOctal(block, OFF.mode, 8, 'mode'),
    mtime: readOctal(block, OFF.mtime, 12, 'mtime'),
  };
}
