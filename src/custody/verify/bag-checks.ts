// BagIt validation of a collected bundle (RFC 8493 §3): the declaration, every payload and tag
// manifest, Payload-Oxum, and completeness — no file missing, unlisted, or outside the layout.
import { sha256Hex, sha512 } from '../../crypto/index.ts';
import {
  isBagAlgorithm,
  manifestAlgorithm,
  parseManifest,
  type BagAlgorithm,
  type ManifestEntry,
} from '../bagit/manifest.ts';
import {
  bagInfoValues,
  formatOxum,
  parseBagInfo,
  parseBagitTxt,
  parseOxum,
  type BagInfo,
} from '../bagit/tag-files.ts';
import { BAG_INFO, FILES } from '../bundle/layout.ts';
import type { BundleLimits } from '../limits.ts';
import { printable } from '../tar/header.ts';
import type { CollectedBundle } from './read-bundle.ts';
import { failure, type ReportBuilder } from './report.ts';

const KNOWN_FILES = new Set<string>(Object.values(FILES));
const REQUIRED: readonly BagAlgorithm[] = ['sha256', 'sha512'];

function digestOf(bytes: Buffer, alg: BagAlgorithm): string {
  return alg === 'sha256' ? sha256Hex(bytes) : sha512(bytes).toString('hex');
}

function manifestFile(kind: 'payload' | 'tag', alg: BagAlgorithm): string {
  return `${kind === 'payload' ? 'manifest' : 'tagmanifest'}-${alg}.txt`;
}

/** Payload manifests as parsed, for the completeness check. */
export interface BagFacts {
  readonly info?: BagInfo;
  readonly exportId?: string;
  readonly listed: Map<string, Set<string>>;
}

/**
 * Run the BagIt checks. `strict` (Custos bundles) also requires both SHA-256 and SHA-512
 * manifests, BagIt 1.0 and the bundle layout; without it any valid SHA-256/512 bag passes.
 */
export function checkBag(
  bag: CollectedBundle,
  limits: BundleLimits,
  report: ReportBuilder,
  strict = true,
): BagFacts {
  const listed = new Map<string, Set<string>>();
  report.run('bagit', () => {
    const bytes = bag.tagFiles.get(FILES.bagit);
    if (bytes === undefined) throw failure('CUSTODY_FILE_MISSING', 'bagit.txt is missing', FILES.bagit);
    return `BagIt ${parseBagitTxt(bytes, strict ? '1.0' : undefined)}`;
  });

  // Payload manifests: every listed file exists and matches.
  const payloadManifests = [...bag.tagFiles.keys()].filter((n) => manifestAlgorithm(n)?.kind === 'payload');
  for (const alg of REQUIRED) {
    const name = manifestFile('payload', alg);
    const id = alg === 'sha256' ? 'manifest-sha256' : 'manifest-sha512';
    if (!bag.tagFiles.has(name)) {
      if (strict) report.fail(id, 'CUSTODY_FILE_MISSING', `${name} is missing`);
      else report.skip(id, `${name} not present`);
      continue;
    }
    report.run(id, () => {
      const entries = parseManifest(
        name,
        bag.tagFiles.get(name) ?? Buffer.alloc(0),
        alg,
        'payload',
        limits.maxLineLength,
      );
      listed.set(name, new Set(entries.map((e) => e.path)));
      for (const e of entries) {
        const actual = bag.payload.get(e.path);
        if (actual === undefined)
          throw failure(
            'CUSTODY_FILE_MISSING',
            `${name} lists ${printable(e.path)}, which is missing`,
            e.path,
          );
        const hex = (alg === 'sha256' ? actual.sha256 : actual.sha512).toString('hex');
        if (hex !== e.digest)
          throw failure(
            'CUSTODY_MANIFEST_MISMATCH',
            `${printable(e.path)} does not match its ${alg} digest in ${name}`,
            e.path,
          );
      }
      return `${entries.length} file(s)`;
    });
  }
  const unsupported = payloadManifests.filter((n) => !isBagAlgorithm(manifestAlgorithm(n)?.algorithm ?? ''));

  report.run('payload-listed', () => {
    if (unsupported.length > 0)
      throw failure(
        'CUSTODY_MANIFEST_INVALID',
        `unsupported manifest algorithm: ${unsupported.join(', ')}`,
        unsupported[0] ?? '',
      );
    if (listed.size === 0) throw failure('CUSTODY_FILE_MISSING', 'no payload manifest', 'manifest-*.txt');
    for (const path of bag.payload.keys()) {
      for (const [manifest, paths] of listed) {
        if (!paths.has(path))
          throw failure('CUSTODY_FILE_UNLISTED', `${printable(path)} is not listed in ${manifest}`, path);
      }
    }
    return `${bag.payload.size} file(s)`;
  });

  let info: BagInfo | undefined;
  report.run('payload-oxum', () => {
    const bytes = bag.tagFiles.get(FILES.bagInfo);
    if (bytes === undefined) throw failure('CUSTODY_FILE_MISSING', 'bag-info.txt is missing', FILES.bagInfo);
    info = parseBagInfo(bytes, limits.maxLineLength);
    const values = bagInfoValues(info, BAG_INFO.payloadOxum);
    if (values.length !== 1)
      throw failure(
        'CUSTODY_BAGIT_INVALID',
        'bag-info.txt must hold exactly one Payload-Oxum',
        FILES.bagInfo,
      );
    const declared = parseOxum(values[0] ?? '');
    let octets = 0;
    for (const d of bag.payload.values()) octets += d.size;
    const actual = formatOxum({ octets, streams: bag.payload.size });
    if (formatOxum(declared) !== actual) {
      throw failure(
        'CUSTODY_PAYLOAD_OXUM_MISMATCH',
        `Payload-Oxum ${formatOxum(declared)} but the payload is ${actual}`,
        BAG_INFO.payloadOxum,
      );
    }
    return actual;
  });

  // Tag manifests: every listed tag file exists and matches; every tag file is listed.
  const tagListed = new Map<string, Set<string>>();
  for (const alg of REQUIRED) {
    const name = manifestFile('tag', alg);
    const id = alg === 'sha256' ? 'tagmanifest-sha256' : 'tagmanifest-sha512';
    if (!bag.tagFiles.has(name)) {
      if (strict) report.fail(id, 'CUSTODY_FILE_MISSING', `${name} is missing`);
      else report.skip(id, `${name} not present`);
      continue;
    }
    report.run(id, () => {
      const entries: ManifestEntry[] = parseManifest(
        name,
        bag.tagFiles.get(name) ?? Buffer.alloc(0),
        alg,
        'tag',
        limits.maxLineLength,
      );
      tagListed.set(name, new Set(entries.map((e) => e.path)));
      for (const e of entries) {
        const bytes = bag.tagFiles.get(e.path);
        if (bytes === undefined)
          throw failure(
            'CUSTODY_FILE_MISSING',
            `${name} lists ${printable(e.path)}, which is missing`,
            e.path,
          );
        if (digestOf(bytes, alg) !== e.digest)
          throw failure(
            'CUSTODY_MANIFEST_MISMATCH',
            `${printable(e.path)} does not match its ${alg} digest in ${name}`,
            e.path,
          );
      }
      return `${entries.length} file(s)`;
    });
  }

  report.run('layout', () => {
    for (const name of bag.tagFiles.keys()) {
      if (manifestAlgorithm(name)?.kind === 'tag') {
        if (!isBagAlgorithm(manifestAlgorithm(name)?.algorithm ?? ''))
          throw failure('CUSTODY_FILE_UNLISTED', `unsupported tag manifest ${printable(name)}`, name);
        continue;
      }
      for (const [manifest, paths] of tagListed) {
        if (!paths.has(name))
          throw failure('CUSTODY_FILE_UNLISTED', `${printable(name)} is not listed in ${manifest}`, name);
      }
      if (strict && !KNOWN_FILES.has(name))
        throw failure('CUSTODY_FILE_UNLISTED', `${printable(name)} is not part of the bundle layout`, name);
    }
    if (strict) {
      for (const path of bag.payload.keys()) {
        if (path !== FILES.records)
          throw failure('CUSTODY_FILE_UNLISTED', `${printable(path)} is not part of the bundle layout`, path);
      }
    }
    return undefined;
  });

  let exportId: string | undefined;
  if (strict) {
    report.run('bag-info', () => {
      if (info === undefined)
        throw failure('CUSTODY_BAGIT_INVALID', 'bag-info.txt could not be read', FILES.bagInfo);
      for (const label of [
        BAG_INFO.sourceOrganization,
        BAG_INFO.baggingDate,
        BAG_INFO.softwareAgent,
        BAG_INFO.exportId,
        BAG_INFO.schemaVersion,
      ]) {
        if (bagInfoValues(info, label).length !== 1)
          throw failure('CUSTODY_BAGIT_INVALID', `bag-info.txt must hold exactly one ${label}`, label);
      }
      exportId = bagInfoValues(info, BAG_INFO.exportId)[0];
      return `export ${exportId ?? ''}`;
    });
  }
  return { ...(info === undefined ? {} : { info }), ...(exportId === undefined ? {} : { exportId }), listed };
}
