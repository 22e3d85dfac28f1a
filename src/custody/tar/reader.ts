// Streaming, strict ustar reader for hostile input: entries are yielded one at a time and never
// written anywhere; counts, sizes, names, duplicates and trailing bytes are checked as they appear.
import { CustosError } from '../../errors/index.ts';
import { ByteReader } from '../io/byte-reader.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { BLOCK, decodeHeader, isZeroBlock, printable, type TarHeader } from './header.ts';

export interface TarEntry extends TarHeader {
  /** The entry's content in slices (each valid until the next is requested). Read at most once. */
  body(): AsyncGenerator<Buffer>;
  /** The whole content, refused with CUSTODY_TAR_LIMIT_EXCEEDED when larger than `max`. */
  readAll(max: number): Promise<Buffer>;
}

function limit(rule: string, field = 'bundle'): CustosError {
  return new CustosError('CUSTODY_TAR_LIMIT_EXCEEDED', `Bundle exceeds a limit: ${rule}`, {
    details: { field, rule },
  });
}

function truncated(): CustosError {
  return new CustosError('CUSTODY_TAR_INVALID', 'Archive is truncated', {
    details: { field: 'tar', rule: 'complete entries and a two-block end-of-archive marker' },
  });
}

/** Key under which two names collide on case-insensitive or normalizing file systems. */
function foldKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * Iterate the entries of a ustar stream. Throws CUSTODY_TAR_INVALID, CUSTODY_TAR_UNSAFE_ENTRY,
 * CUSTODY_TAR_DUPLICATE_ENTRY or CUSTODY_TAR_LIMIT_EXCEEDED as soon as the offending header is read.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  limits: BundleLimits = DEFAULT_LIMITS,
): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  const seen = new Map<string, TarEntryKind>();
  let count = 0;
  let total = 0;
  try {
    for (;;) {
      const block = await reader.readExact(BLOCK);
      if (block.length === 0) throw truncated();
      if (block.length < BLOCK) throw truncated();
      if (isZeroBlock(block)) {
        const second = await reader.readExact(BLOCK);
        if (second.length < BLOCK || !isZeroBlock(second)) throw truncated();
        await checkTrailing(reader, limits);
        return;
      }
      const header = decodeHeader(block);
      count++;
      if (count > limits.maxEntries) throw limit(`at most ${limits.maxEntries} entries`);
      if (header.size > limits.maxEntrySize)
        throw limit(`entry size ≤ ${limits.maxEntrySize}`, printable(header.name));
      total += header.size;
      if (total > limits.maxTotalSize) throw limit(`total content ≤ ${limits.maxTotalSize}`);
      registerName(seen, header);
      const padded = Math.ceil(header.size / BLOCK) * BLOCK;
      let remaining = header.size;
      let consumed = false;
      const body = async function* (): AsyncGenerator<Buffer> {
        if (consumed) throw new CustosError('INTERNAL', 'Archive entry body read twice');
        consumed = true;
        while (remaining > 0) {
          const slice = await reader.readSome(remaining);
          if (slice.length === 0) throw truncated();
          remaining -= slice.length;
          yield slice;
        }
      };
      const entry: TarEntry = {
        ...header,
        body,
        readAll: async (max: number) => {
          if (header.size > max) throw limit(`this file ≤ ${max} bytes`, printable(header.name));
          const parts: Buffer[] = [];
          for await (const s of body()) parts.push(Buffer.from(s));
          return Buffer.concat(parts, header.size);
        },
      };
      yield entry;
      // Skip whatever the consumer did not read, then the padding to the next block.
      while (remaining > 0) {
        const slice = await reader.readSome(remaining);
        if (slice.length === 0) throw truncated();
        remaining -= slice.length;
      }
      const pad = padded - header.size;
      if (pad > 0) {
        const padding = await reader.readExact(pad);
        if (padding.length < pad) throw truncated();
      }
    }
  } finally {
    await reader.cancel();
  }
}

type TarEntryKind = 'file' | 'directory';

function registerName(seen: Map<string, TarEntryKind>, header: TarHeader): void {
  const key = foldKey(header.name);
  const parts = key.split('/');
  // Parents are implied directories; a file may not also be used as a directory, in either order.
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    if (seen.get(parent) === 'file') {
      throw new CustosError('CUSTODY_TAR_DUPLICATE_ENTRY', 'Archive uses a file as a directory', {
        details: { field: printable(header.name), rule: 'no entry below a file' },
      });
    }
    seen.set(parent, 'directory');
  }
  const prior = seen.get(key);
  if (prior !== undefined && !(prior === 'directory' && header.type === 'directory')) {
    throw new CustosError('CUSTODY_TAR_DUPLICATE_ENTRY', 'Archive holds the same name twice', {
      details: { field: printable(header.name), rule: 'unique names (case- and normalization-insensitive)' },
    });
  }
  seen.set(key, header.type);
}

async function checkTrailing(reader: ByteReader, limits: BundleLimits): Promise<void> {
  let trailing = 0;
  for (;;) {
    const chunk = await reader.readSome(64 * 1024);
    if (chunk.length === 0) return;
    trailing += chunk.length;
    if (trailing > limits.maxTrailingPadding)
      throw limit(`at most ${limits.maxTrailingPadding} bytes after the end marker`);
    if (!isZeroBlock(chunk)) {
      throw new CustosError('CUSTODY_TAR_INVALID', 'Archive has data after its end marker', {
        details: { field: 'tar', rule: 'only zero padding after the end-of-archive marker' },
      });
    }
  }
}
