// BagIt manifests (RFC 8493 §2.1.3, §2.2.1): `<checksum> <path>` lines, paths percent-encoding
// CR, LF and %, parsed strictly with every path checked to stay inside the bag.
import { CustosError } from '../../errors/index.ts';
import { printable, unsafeReason } from '../tar/header.ts';

export type BagAlgorithm = 'sha256' | 'sha512';
export const BAG_ALGORITHMS: readonly BagAlgorithm[] = ['sha256', 'sha512'];
const HEX_LENGTH: Readonly<Record<BagAlgorithm, number>> = { sha256: 64, sha512: 128 };

export interface ManifestEntry {
  readonly path: string;
  /** Lowercase hex digest. */
  readonly digest: string;
}

function invalid(file: string, rule: string, line?: number): CustosError {
  return new CustosError('CUSTODY_MANIFEST_INVALID', `${file} is malformed: ${rule}`, {
    details: { field: file, rule, ...(line === undefined ? {} : { line }) },
  });
}

/** The algorithm a manifest file name declares (`manifest-sha256.txt`), if it is one. */
export function manifestAlgorithm(name: string): { kind: 'payload' | 'tag'; algorithm: string } | undefined {
  const m = /^(manifest|tagmanifest)-([a-z0-9]+)\.txt$/.exec(name);
  if (m === null) return undefined;
  return { kind: m[1] === 'manifest' ? 'payload' : 'tag', algorithm: m[2] ?? '' };
}

export function isBagAlgorithm(name: string): name is BagAlgorithm {
  return name === 'sha256' || name === 'sha512';
}

function encodePath(path: string): string {
  return path.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

function decodePath(text: string): string | undefined {
  // Only %25, %0D and %0A are defined; any other escape is left as is, as RFC 8493 requires.
  return text.replace(/%(25|0[dDaA])/g, (_, code: string) =>
    code === '25' ? '%' : code.toLowerCase() === '0d' ? '\r' : '\n',
  );
}

/** Manifest text for `entries`, sorted by path (byte order), two spaces between digest and path. */
export function formatManifest(entries: readonly ManifestEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return Buffer.from(sorted.map((e) => `${e.digest}  ${encodePath(e.path)}\n`).join(''), 'utf8');
}

/**
 * Parse manifest bytes. `kind` decides which paths are allowed: payload manifests list only
 * `data/…`, tag manifests only files outside `data/` other than tag manifests.
 * Throws CUSTODY_MANIFEST_INVALID naming the file, line and rule.
 */
export function parseManifest(
  file: string,
  bytes: Uint8Array,
  algorithm: BagAlgorithm,
  kind: 'payload' | 'tag',
  maxLineLength: number,
): ManifestEntry[] {
  const text = Buffer.from(bytes).toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(Buffer.from(bytes))) throw invalid(file, 'not valid UTF-8');
  if (text.startsWith('\uFEFF')) throw invalid(file, 'starts with a byte-order mark');
  if (text.length > 0 && !text.endsWith('\n')) throw invalid(file, 'last line is not terminated');
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
  const seen = new Set<string>();
  const out: ManifestEntry[] = [];
  const hexLength = HEX_LENGTH[algorithm];
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.length > maxLineLength)
      throw invalid(file, `line longer than ${maxLineLength} characters`, lineNo);
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = /^([0-9A-Fa-f]+)[ \t]+(.+)$/.exec(line);
    if (m === null) throw invalid(file, 'expected "<checksum> <path>"', lineNo);
    const digest = (m[1] ?? '').toLowerCase();
    if (digest.length !== hexLength)
      throw invalid(file, `${algorithm} checksum must be ${hexLength} hex digits`, lineNo);
    const path = decodePath(m[2] ?? '') ?? '';
    const reason = unsafeReason(path);
    if (reason !== undefined)
      throw invalid(file, `path ${JSON.stringify(printable(path))} is unsafe: ${reason}`, lineNo);
    if (kind === 'payload' && !path.startsWith('data/'))
      throw invalid(file, 'payload manifest lists a file outside data/', lineNo);
    if (kind === 'tag') {
      if (path.startsWith('data/')) throw invalid(file, 'tag manifest lists a payload file', lineNo);
      if (manifestAlgorithm(path)?.kind === 'tag')
        throw invalid(file, 'tag manifest lists a tag manifest', lineNo);
    }
    const key = path.normalize('NFC');
    if (seen.has(key)) throw invalid(file, `path ${JSON.stringify(printable(path))} listed twice`, lineNo);
    seen.add(key);
    out.push({ path, digest });
  });
  return out;
}
