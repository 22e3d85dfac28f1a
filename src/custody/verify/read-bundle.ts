// Reads a bundle file once, as a stream: detects age encryption, decrypts with the given
// identities, walks the tar strictly, hashes payload files (SHA-256 + SHA-512) as they pass and
// keeps the small tag files in memory. Nothing is ever written to disk.
import { open, type FileHandle } from 'node:fs/promises';
import { CustosError } from '../../errors/index.ts';
import { decryptStream, looksLikeAge, AGE_MAGIC, type AgeIdentity } from '../age/index.ts';
import { createDualDigest, type Digests } from '../digest/dual-digest.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { fileChunks } from '../io/file-chunks.ts';
import { readTar } from '../tar/reader.ts';

export interface CollectedBundle {
  readonly encrypted: boolean;
  /** Files outside data/, by name. */
  readonly tagFiles: ReadonlyMap<string, Buffer>;
  /** Files under data/, by name. */
  readonly payload: ReadonlyMap<string, Digests>;
  /** Bytes of the bundle file read. */
  readonly bytes: number;
}

export interface ReadOptions {
  readonly identities?: readonly AgeIdentity[];
  readonly limits?: BundleLimits;
  readonly onProgress?: (read: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Where reading stopped: the stage decides which check the failure belongs to. */
export class ReadFailure extends Error {
  readonly stage: 'file' | 'decrypt' | 'archive';
  readonly error: CustosError;
  readonly encrypted: boolean;

  constructor(stage: 'file' | 'decrypt' | 'archive', error: CustosError, encrypted: boolean) {
    super(error.message);
    this.stage = stage;
    this.error = error;
    this.encrypted = encrypted;
  }
}

async function* counted(
  source: AsyncIterable<Uint8Array>,
  total: number,
  progress: { read: number },
  options: ReadOptions,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    options.signal?.throwIfAborted();
    progress.read += chunk.length;
    options.onProgress?.(progress.read, total);
    yield chunk;
  }
}

/** Decryption errors surface while the tar reader pulls; tag them so they map to the decrypt check. */
async function* tagDecryptErrors(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (err) {
    if (err instanceof CustosError && err.code.startsWith('CUSTODY_AGE_'))
      throw new ReadFailure('decrypt', err, true);
    throw err;
  }
}

function unreadable(cause: unknown): ReadFailure {
  return new ReadFailure(
    'file',
    new CustosError('CUSTODY_BUNDLE_UNREADABLE', 'Bundle file cannot be read', {
      cause,
      details: { field: 'FILE', rule: 'readable file' },
    }),
    false,
  );
}

/** Read and hash a bundle file. Throws ReadFailure for every expected failure. */
export async function readBundleFile(path: string, options: ReadOptions = {}): Promise<CollectedBundle> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw unreadable(cause);
  }
  try {
    return await readOpenBundle(fh, options);
  } finally {
    await fh.close();
  }
}

async function readOpenBundle(fh: FileHandle, options: ReadOptions): Promise<CollectedBundle> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  let size: number;
  let head: Buffer;
  try {
    size = (await fh.stat()).size;
    head = Buffer.alloc(AGE_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } catch (cause) {
    throw unreadable(cause);
  }
  const encrypted = looksLikeAge(head);
  if (encrypted && (options.identities === undefined || options.identities.length === 0)) {
    throw new ReadFailure(
      'decrypt',
      new CustosError('CUSTODY_BUNDLE_ENCRYPTED', 'Bundle is age-encrypted; give --identity', {
        details: { field: '--identity', rule: 'an age identity file' },
      }),
      true,
    );
  }
  const progress = { read: 0 };
  const raw = counted(fileChunks(fh), size, progress, options);
  const plain = encrypted ? tagDecryptErrors(decryptStream(raw, options.identities ?? [])) : raw;
  const tagFiles = new Map<string, Buffer>();
  const payload = new Map<string, Digests>();
  try {
    for await (const entry of readTar(plain, limits)) {
      if (entry.type === 'directory') continue;
      if (entry.name.startsWith('data/')) {
        // This thread only reads and parses: it hashes SHA-256 itself beside one SHA-512 worker.
        const digest = createDualDigest({ offload: 'sha512' });
        try {
          for await (const slice of entry.body()) await digest.update(slice);
          payload.set(entry.name, await digest.digest());
        } finally {
          // A bundle that breaks off mid-payload stops its hashing workers (after digest(): no-op).
          digest.abandon();
        }
      } else {
        tagFiles.set(entry.name, await entry.readAll(limits.maxTagFileSize));
      }
    }
  } catch (err) {
    if (err instanceof ReadFailure) throw err;
    if (err instanceof CustosError) throw new ReadFailure('archive', err, encrypted);
    throw err;
  }
  return { encrypted, tagFiles, payload, bytes: progress.read };
}
