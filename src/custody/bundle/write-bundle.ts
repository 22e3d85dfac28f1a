// Writes one export bundle in a single pass: records → RFC 8785 NDJSON → SHA-256 + SHA-512 →
// ustar → (age) → a temporary file, fsynced and renamed into place. Memory stays bounded: the
// payload streams through, and only the ~1 KiB tar header of the payload file is patched.
import { randomBytes, type KeyObject } from 'node:crypto';
import { link, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256, sha256Hex, sha512, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { AgeSink, fileOutput, type AgeRecipient } from '../age/index.ts';
import { formatManifest, type ManifestEntry } from '../bagit/manifest.ts';
import { formatBagInfo, formatBagitTxt, formatOxum, type BagInfo } from '../bagit/tag-files.ts';
import { createDualDigest } from '../digest/dual-digest.ts';
import { signEnvelope } from '../dsse/index.ts';
import { encodeStatement, INTOTO_PAYLOAD_TYPE } from '../intoto/statement.ts';
import type { ChunkPool } from '../io/chunk-pool.ts';
import { FileSink, type ByteSink } from '../io/sink.ts';
import { fsyncDir } from '../io/fsync.ts';
import { buildProvenance, type VersionedRef } from '../prov/provenance.ts';
import { TarWriter } from '../tar/writer.ts';
import { BAG_INFO, BUNDLE_FORMAT, FILES, PREDICATE_TYPE, SIGNED_TAG_FILES, SOFTWARE } from './layout.ts';

export interface BundleSigner {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

/** What the bundle needs from the ledger: where the export event goes, and its proof. */
export interface LedgerAnchor {
  readonly ledger: string;
  readonly origin: string;
  /** The checkpoint key in C2SP signed-note verifier form, pinned by the signed statement. */
  readonly verifierKey: string;
  /** Record the `custody.produced` event and return metadata/ledger-proof.json bytes. */
  anchor(produced: ProducedFacts): Promise<Buffer>;
}

export interface ProducedFacts {
  readonly exportId: string;
  readonly statementSha256: string;
  readonly payloadOxum: string;
  readonly definition: string;
}

export interface WriteBundleOptions {
  readonly out: string;
  readonly exportId: string;
  readonly workspace: string;
  readonly sourceOrganization: string;
  readonly startedAt: string;
  readonly outputSchemaVersion: number;
  readonly definition: { readonly name: string; readonly version: number; readonly digest: string };
  readonly purpose: string;
  readonly actor: { readonly kind: string; readonly id: string };
  /** Payload buffers of data/records.ndjson (see encodeRecords). */
  readonly payload: AsyncIterable<Uint8Array>;
  /**
   * The pool the payload's buffers are taken from, if any: each is hashed in place and released
   * once hashed and written (see encodeRecords' `pool`).
   */
  readonly payloadPool?: ChunkPool;
  readonly recipients: readonly AgeRecipient[];
  readonly signer: BundleSigner;
  readonly ledger: LedgerAnchor;
  readonly run?: VersionedRef;
  readonly workflowVersion?: VersionedRef;
  readonly policy?: VersionedRef;
  readonly signal?: AbortSignal;
}

export interface PayloadFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly sha512: string;
}

export interface BundleResult {
  readonly path: string;
  readonly exportId: string;
  readonly encrypted: boolean;
  readonly payload: readonly PayloadFile[];
  readonly payloadOxum: string;
  readonly statementSha256: string;
  readonly createdAt: string;
}

/** Payload chunks that may wait to be hashed and written while the encoder goes on. */
const PAYLOAD_IN_FLIGHT = 4;

interface TagFile {
  readonly name: string;
  readonly bytes: Buffer;
}

/**
 * Write the bundle to `out` (replacing nothing: the file must not exist). Throws
 * CUSTODY_ARCHIVE_IO on file errors, plus whatever the payload source and ledger anchor throw;
 * on any failure the partial file is removed.
 */
export async function writeBundle(o: WriteBundleOptions): Promise<BundleResult> {
  const dir = dirname(o.out);
  const temp = join(dir, `.${basename(o.out)}.partial-${randomBytes(6).toString('hex')}`);
  let fh;
  try {
    fh = await open(temp, 'wx', 0o600);
  } catch (cause) {
    throw new CustosError('CUSTODY_ARCHIVE_IO', 'Bundle output file cannot be created', {
      cause,
      details: { field: '--out', rule: 'writable directory' },
    });
  }
  let done = false;
  try {
    const sink: ByteSink =
      o.recipients.length > 0 ? new AgeSink(fileOutput(fh), o.recipients) : new FileSink(fh);
    const result = await writeTar(sink, o);
    await sink.close();
    await fh.sync();
    await fh.close();
    try {
      // link() refuses an existing name, so an existing file is never replaced.
      await link(temp, o.out);
    } catch (cause) {
      const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
      throw new CustosError(
        exists ? 'CUSTODY_ARCHIVE_IMMUTABLE' : 'CUSTODY_ARCHIVE_IO',
        exists ? 'Output file already exists' : 'Bundle cannot be moved into place',
        {
          cause,
          details: { field: '--out', rule: exists ? 'a new file' : 'writable directory' },
        },
      );
    }
    await rm(temp, { force: true });
    await fsyncDir(dir);
    done = true;
    return { ...result, path: o.out, encrypted: o.recipients.length > 0 };
  } finally {
    if (!done) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

async function writeTar(
  sink: ByteSink,
  o: WriteBundleOptions,
): Promise<Omit<BundleResult, 'path' | 'encrypted'>> {
  const tar = new TarWriter(sink);
  const tags: TagFile[] = [];
  const addTag = async (name: string, bytes: Buffer): Promise<void> => {
    tags.push({ name, bytes });
    await tar.addFile(name, bytes);
  };

  await addTag(FILES.bagit, formatBagitTxt());

  // The payload: streamed once through the digests and into the archive.
  const stream = await tar.beginFile(FILES.records);
  const pool = o.payloadPool;
  const digest = createDualDigest(pool === undefined ? {} : { pool });
  // Up to PAYLOAD_IN_FLIGHT chunks queued behind the encoder: hashing (worker threads) and
  // writing (the libuv pool) run while the next chunks are encoded, so a slow write does not stop
  // the encoder. The digest and the sink each still see their chunks one at a time, in order.
  const queued: Promise<void>[] = [];
  let hashed: Promise<void> = Promise.resolve();
  let written: Promise<void> = Promise.resolve();
  let settled = false;
  let d;
  try {
    for await (const chunk of o.payload) {
      try {
        o.signal?.throwIfAborted();
        if (queued.length >= PAYLOAD_IN_FLIGHT) await queued.shift();
      } catch (err) {
        pool?.release(chunk);
        throw err;
      }
      hashed = hashed.then(() => digest.update(chunk));
      written = written.then(() => stream.write(chunk));
      // The chunk goes back to the pool once hashed and written, or once either failed.
      const done = Promise.all([hashed, written])
        .then(() => undefined)
        .finally(() => pool?.release(chunk));
      // Handled here so a failure while the next chunk is encoded is not an unhandled rejection;
      // awaiting the queue still throws it.
      done.catch(() => undefined);
      queued.push(done);
    }
    await Promise.all(queued);
    settled = true;
    await stream.end();
    d = await digest.digest();
  } finally {
    // On failure, nothing queued outlives this call (the file is closed and removed after it),
    // and the hashing workers of the unfinished stream are stopped rather than left running.
    if (!settled) await Promise.allSettled(queued);
    if (d === undefined) digest.abandon();
  }
  const payload: PayloadFile[] = [
    { path: FILES.records, size: d.size, sha256: d.sha256.toString('hex'), sha512: d.sha512.toString('hex') },
  ];

  const m256: ManifestEntry[] = payload.map((p) => ({ path: p.path, digest: p.sha256 }));
  const m512: ManifestEntry[] = payload.map((p) => ({ path: p.path, digest: p.sha512 }));
  await addTag(FILES.manifest256, formatManifest(m256));
  await addTag(FILES.manifest512, formatManifest(m512));

  const endedAt = new Date().toISOString();
  const oxum = formatOxum({ octets: payload.reduce((n, p) => n + p.size, 0), streams: payload.length });
  const definitionRef = `${o.definition.name}@v${o.definition.version}`;
  const info: BagInfo = [
    [BAG_INFO.sourceOrganization, o.sourceOrganization],
    [BAG_INFO.baggingDate, endedAt.slice(0, 10)],
    [BAG_INFO.payloadOxum, oxum],
    [BAG_INFO.softwareAgent, SOFTWARE],
    [BAG_INFO.exportId, o.exportId],
    [BAG_INFO.workspace, o.workspace],
    [BAG_INFO.definition, definitionRef],
    [BAG_INFO.schemaVersion, String(o.outputSchemaVersion)],
    [BAG_INFO.bundleFormat, BUNDLE_FORMAT],
    [BAG_INFO.created, endedAt],
  ];
  await addTag(FILES.bagInfo, formatBagInfo(info));
  await addTag(FILES.exportKey, Buffer.from(o.signer.publicKeyPem, 'utf8'));
  await addTag(
    FILES.provenance,
    buildProvenance({
      exportId: o.exportId,
      workspace: o.workspace,
      startedAt: o.startedAt,
      endedAt,
      actor: o.actor,
      purpose: o.purpose,
      definition: o.definition,
      recipients: o.recipients.map((r) => r.text),
      software: SOFTWARE,
      ...(o.run === undefined ? {} : { run: o.run }),
      ...(o.workflowVersion === undefined ? {} : { workflowVersion: o.workflowVersion }),
      ...(o.policy === undefined ? {} : { policy: o.policy }),
    }),
  );

  const tagDigests: Record<string, JsonValue> = {};
  for (const t of tags) if (SIGNED_TAG_FILES.includes(t.name)) tagDigests[t.name] = sha256Hex(t.bytes);
  const statement = encodeStatement({
    subject: payload.map((p) => ({ name: p.path, digest: { sha256: p.sha256, sha512: p.sha512 } })),
    predicateType: PREDICATE_TYPE,
    predicate: {
      exportId: o.exportId,
      workspace: o.workspace,
      definition: { name: o.definition.name, version: o.definition.version, digest: o.definition.digest },
      outputSchemaVersion: o.outputSchemaVersion,
      purpose: o.purpose,
      actor: { kind: o.actor.kind, id: o.actor.id },
      recipients: o.recipients.map((r) => r.text),
      startedAt: o.startedAt,
      createdAt: endedAt,
      payloadOxum: oxum,
      tagFiles: tagDigests,
      ledger: { ledger: o.ledger.ledger, origin: o.ledger.origin, verifierKey: o.ledger.verifierKey },
    },
  });
  const envelope = signEnvelope(INTOTO_PAYLOAD_TYPE, statement, {
    keyId: o.signer.keyId,
    privateKey: o.signer.privateKey,
  });
  await addTag(FILES.attestation, Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8'));

  const statementSha256 = sha256(statement).toString('hex');
  const proof = await o.ledger.anchor({
    exportId: o.exportId,
    statementSha256,
    payloadOxum: oxum,
    definition: definitionRef,
  });
  await addTag(FILES.ledgerProof, proof);

  const tagEntries = (alg: 'sha256' | 'sha512'): ManifestEntry[] =>
    tags.map((t) => ({
      path: t.name,
      digest: alg === 'sha256' ? sha256Hex(t.bytes) : createSha512Hex(t.bytes),
    }));
  await tar.addFile(FILES.tagManifest256, formatManifest(tagEntries('sha256')));
  await tar.addFile(FILES.tagManifest512, formatManifest(tagEntries('sha512')));
  await tar.finish();
  return { exportId: o.exportId, payload, payloadOxum: oxum, statementSha256, createdAt: endedAt };
}

function createSha512Hex(data: Uint8Array): string {
  return sha512(data).toString('hex');
}
