// Byte sinks for bundle output that allow one-pass writing of formats whose headers precede data
// of unknown length: a region is pinned before it is written and patched once its content is known.
import type { FileHandle } from 'node:fs/promises';
import { CustosError } from '../../errors/index.ts';

export interface ByteSink {
  /** Bytes written so far: the offset of the next byte. */
  readonly position: number;
  write(data: Uint8Array): Promise<void>;
  /** Announce that [offset, offset + length) will be patched; call before those bytes are written. */
  pin(offset: number, length: number): void;
  /** Overwrite a pinned region with its final bytes (same length) and release the pin. */
  patch(offset: number, data: Uint8Array): Promise<void>;
  /** Flush everything; the sink is unusable afterwards. */
  close(): Promise<void>;
}

/** Collects everything in memory (tests, small bundles). */
export class MemorySink implements ByteSink {
  #parts: Buffer[] = [];
  #joined: Buffer | undefined;
  position = 0;

  write(data: Uint8Array): Promise<void> {
    this.#parts.push(Buffer.from(data));
    this.#joined = undefined;
    this.position += data.length;
    return Promise.resolve();
  }

  pin(): void {
    // nothing to retain: the whole output stays in memory
  }

  patch(offset: number, data: Uint8Array): Promise<void> {
    const all = this.bytes();
    if (offset + data.length > all.length)
      return Promise.reject(new CustosError('INTERNAL', 'Patch beyond written data'));
    all.set(data, offset);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Everything written, as one buffer. */
  bytes(): Buffer {
    if (this.#joined === undefined) {
      this.#joined = Buffer.concat(this.#parts);
      this.#parts = [this.#joined];
    }
    return this.#joined;
  }
}

const COALESCE = 1024 * 1024;
/** Writes at least this large go straight to the file when nothing is pending: no copy. */
const DIRECT = 256 * 1024;
/** Start a background data sync each time this many more bytes have been written. */
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Writes to an open file with positional writes; small writes are coalesced into 1 MiB blocks.
 * Written data is synced in the background as the file grows, so the owner's final fsync has
 * little left to flush instead of the whole file (durability overlaps the producer's work).
 */
export class FileSink implements ByteSink {
  readonly #fh: FileHandle;
  readonly #start: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #flushed = 0;
  #syncedAt = 0;
  #syncing: Promise<void> | undefined;
  #syncFailure: unknown;
  position = 0;

  /** `start` is the file offset of this sink's byte 0 (after a header written by someone else). */
  constructor(fh: FileHandle, start = 0) {
    this.#fh = fh;
    this.#start = start;
  }

  async write(data: Uint8Array): Promise<void> {
    this.position += data.length;
    if (data.length >= DIRECT && this.#pendingBytes === 0) {
      // Offsets are assigned before any await, so positional writes may overlap safely.
      const at = this.#flushed;
      this.#flushed += data.length;
      await this.#writeAt(data, at);
      return;
    }
    this.#pending.push(Buffer.from(data));
    this.#pendingBytes += data.length;
    if (this.#pendingBytes >= COALESCE) await this.#flush();
  }

  pin(): void {
    // positional writes can patch anything already on disk
  }

  async patch(offset: number, data: Uint8Array): Promise<void> {
    if (offset + data.length > this.position) throw new CustosError('INTERNAL', 'Patch beyond written data');
    if (offset + data.length > this.#flushed) await this.#flush();
    await this.#writeAt(data, offset);
  }

  /** Flush pending bytes and wait for any background sync (the caller still fsyncs the file). */
  async close(): Promise<void> {
    await this.#flush();
    await this.#syncing;
    if (this.#syncFailure !== undefined) throw ioError(this.#syncFailure);
  }

  #maybeSync(): void {
    if (this.#syncing !== undefined || this.#flushed - this.#syncedAt < SYNC_EVERY) return;
    this.#syncedAt = this.#flushed;
    this.#syncing = this.#fh.datasync().then(
      () => {
        this.#syncing = undefined;
      },
      (cause: unknown) => {
        this.#syncFailure ??= cause;
      },
    );
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const [only] = this.#pending;
    const buf =
      this.#pending.length === 1 && only !== undefined
        ? only
        : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const at = this.#flushed;
    this.#flushed += buf.length;
    await this.#writeAt(buf, at);
  }

  async #writeAt(data: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(
        data,
        done,
        data.length - done,
        this.#start + offset + done,
      );
      done += bytesWritten;
    }
    this.#maybeSync();
  }
}

function ioError(cause: unknown): CustosError {
  return new CustosError('CUSTODY_ARCHIVE_IO', 'Bundle output cannot be synced to disk', {
    cause,
    details: { field: '--out', rule: 'writable directory' },
  });
}
