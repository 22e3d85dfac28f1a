// The archive's storage backends: content addressed by SHA-256, written once, verified while
// written, read as a stream. The Archive decides what may happen; a backend only does it.
import { createHash } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';

export interface BlobBackend {
  /** `fs:/path` or `db`, recorded with each archived blob. */
  readonly name: string;
  /** Copy `source` in under `sha256`, verifying the digest while copying. A present blob is kept as is. */
  write(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void>;
  /** The stored bytes. Throws CUSTODY_ARCHIVE_NOT_FOUND when absent. */
  read(sha256: string): AsyncIterable<Buffer>;
  has(sha256: string): Promise<boolean>;
  /** Remove the blob (the Archive calls this only for an approved deletion). */
  remove(sha256: string): Promise<void>;
  /** Replace missing or corrupt content with verified bytes (scrubber repair). */
  restore(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function checkAddress(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) {
    throw new CustosError('INPUT_INVALID', 'Archive address must be a lowercase hex SHA-256', {
      details: { field: 'sha256', rule: '64 lowercase hex digits' },
    });
  }
}

export function notFound(sha256: string): CustosError {
  return new CustosError('CUSTODY_ARCHIVE_NOT_FOUND', `No archived bundle ${sha256.slice(0, 16)}…`, {
    details: { field: 'sha256', rule: 'an archived, not deleted bundle' },
  });
}

export function digestMismatch(sha256: string, where: string): CustosError {
  return new CustosError(
    'CUSTODY_ARCHIVE_CORRUPT',
    `Content does not hash to ${sha256.slice(0, 16)}… (${where})`,
    {
      details: { field: 'sha256', rule: 'content matches its address', where },
    },
  );
}

/** Pass chunks through while hashing; `digest()` is the hex SHA-256 once the stream has ended. */
export function hashing(source: AsyncIterable<Uint8Array>): {
  stream: AsyncGenerator<Uint8Array>;
  digest: () => string;
  size: () => number;
} {
  const h = createHash('sha256');
  let size = 0;
  let result: string | undefined;
  async function* stream(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      h.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    result = h.digest('hex');
  }
  return {
    stream: stream(),
    digest: () => {
      if (result === undefined) throw new CustosError('INTERNAL', 'Digest read before the stream ended');
      return result;
    },
    size: () => size,
  };
}
