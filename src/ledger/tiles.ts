// C2SP tlog-tiles: tile paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), tile widths for a
// tree size, hash tiles and entry bundles (big-endian uint16 length-prefixed). Parsers are strict:
// only the one canonical spelling of a path is accepted, and a body must be exactly W items long.
import { CustosError } from '../errors/index.ts';
import { HASH_SIZE } from './hash.ts';

/** Tile height: each tile spans 8 levels of the tree, 256 hashes wide. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Entries are uint16 length-prefixed in bundles, so none can be longer than this. */
export const MAX_ENTRY_BYTES = 0xffff;
const MAX_LEVEL = 63;

export type TileRef =
  | { readonly kind: 'hashes'; readonly level: number; readonly index: number; readonly width?: number }
  | { readonly kind: 'entries'; readonly index: number; readonly width?: number };

function pathError(path: string, rule: string): CustosError {
  // The path is echoed only as its length: it is attacker-controlled text.
  return new CustosError('LEDGER_TILE_PATH_INVALID', `Tile path is invalid: ${rule}`, {
    details: { field: 'path', rule, length: path.length },
  });
}

/** N as zero-padded three-digit groups, all but the last prefixed with `x`: 1234067 → x001/x234/067. */
export function formatTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('tile index must be a non-negative integer');
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number | undefined): string {
  return width === undefined || width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** The path of a tile or entry bundle, relative to the log prefix. */
export function tilePath(ref: TileRef): string {
  const n = formatTileIndex(ref.index);
  return ref.kind === 'entries'
    ? `tile/entries/${n}${widthSuffix(ref.width)}`
    : `tile/${ref.level}/${n}${widthSuffix(ref.width)}`;
}

/** Parse `tile/…` (canonical spelling only). Throws LEDGER_TILE_PATH_INVALID. */
export function parseTilePath(path: string): TileRef {
  if (path.length > 200) throw pathError(path, 'at most 200 characters');
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(
    path,
  );
  if (m === null) throw pathError(path, 'tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]');
  const [, levelText = '', indexText = '', widthText] = m;
  const groups = indexText.split('/');
  if (groups.length > 1 && groups[0] === 'x000') throw pathError(path, 'index has a leading zero group');
  if (groups.length > 6) throw pathError(path, 'index is too large');
  const index = Number(groups.map((g) => g.replace('x', '')).join(''));
  if (!Number.isSafeInteger(index)) throw pathError(path, 'index is too large');
  let width: number | undefined;
  if (widthText !== undefined) {
    width = Number(widthText);
    if (width >= TILE_WIDTH) throw pathError(path, 'partial width must be 1 to 255');
  }
  if (levelText === 'entries')
    return width === undefined ? { kind: 'entries', index } : { kind: 'entries', index, width };
  const level = Number(levelText);
  if (level > MAX_LEVEL) throw pathError(path, 'level must be 0 to 63');
  return width === undefined ? { kind: 'hashes', level, index } : { kind: 'hashes', level, index, width };
}

/**
 * How many hashes tile `index` at `level` holds in a tree of `size`: 256 when full, the partial
 * width `floor(size / 256^level) mod 256` for the rightmost tile, 0 when it does not exist yet.
 */
export function tileWidthFor(size: number, level: number, index: number): number {
  const count = Math.floor(size / TILE_WIDTH ** level);
  const start = index * TILE_WIDTH;
  if (count >= start + TILE_WIDTH) return TILE_WIDTH;
  return Math.max(0, count - start);
}

/** Split a hash tile into its hashes. Throws LEDGER_TILE_MALFORMED when it is not exactly `width` hashes. */
export function parseHashTile(data: Uint8Array, width: number): Buffer[] {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH || data.length !== width * HASH_SIZE) {
    throw new CustosError(
      'LEDGER_TILE_MALFORMED',
      `Tile must be exactly ${width} hashes (${width * HASH_SIZE} bytes)`,
      {
        details: { field: 'tile', rule: `${width} × 32 bytes`, length: data.length },
      },
    );
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Buffer[] = [];
  for (let i = 0; i < width; i++) out.push(buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/** Concatenate hashes into a tile body. */
export function encodeHashTile(hashes: readonly Uint8Array[]): Buffer {
  return Buffer.concat(hashes);
}

/** Entries as a C2SP entry bundle: each prefixed by its length as a big-endian uint16. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES) throw new RangeError('entry longer than 65535 bytes');
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(e.length, 0);
    parts.push(len, Buffer.from(e.buffer, e.byteOffset, e.byteLength));
  }
  return Buffer.concat(parts);
}

/** Split an entry bundle. Throws LEDGER_ENTRY_BUNDLE_MALFORMED when truncated or not exactly `width` entries. */
export function parseEntryBundle(data: Uint8Array, width: number): Buffer[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) throw bundleError('truncated length prefix', out.length);
    const len = buf.readUInt16BE(at);
    at += 2;
    if (at + len > buf.length) throw bundleError('truncated entry', out.length);
    out.push(buf.subarray(at, at + len));
    at += len;
    if (out.length > width) break;
  }
  if (out.length !== width)
    throw bundleError(
      `expected ${width} entries, found ${out.length > width ? 'more' : out.length}`,
      out.length,
    );
  return out;
}

function bundleError(rule: string, entry: number): CustosError {
  return new CustosError('LEDGER_ENTRY_BUNDLE_MALFORMED', `Entry bundle is malformed: ${rule}`, {
    details: { field: 'bundle', rule, entry },
  });
}
