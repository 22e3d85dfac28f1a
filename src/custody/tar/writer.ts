// Deterministic ustar writer: fixed mode, uid/gid 0, no user names, one fixed mtime, entries in
// the order given. Streamed entries pin their header and patch in the size once it is known.
import { CustosError } from '../../errors/index.ts';
import type { ByteSink } from '../io/sink.ts';
import { USTAR_MAX_SIZE } from '../limits.ts';
import { BLOCK, encodeHeader } from './header.ts';

/** The mtime of every entry: the epoch, so identical content gives identical archives. */
export const FIXED_MTIME = 0;
const FILE_MODE = 0o644;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

export interface TarFileStream {
  write(chunk: Uint8Array): Promise<void>;
  /** Finish the entry; resolves to its size. */
  end(): Promise<number>;
}

export class TarWriter {
  readonly #sink: ByteSink;
  #open = false;
  #finished = false;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  #assertIdle(): void {
    if (this.#open || this.#finished) throw new CustosError('INTERNAL', 'Tar writer is busy or finished');
  }

  /** Add a file whose whole content is known. */
  async addFile(name: string, data: Uint8Array): Promise<void> {
    this.#assertIdle();
    await this.#sink.write(
      encodeHeader({ name, type: 'file', size: data.length, mode: FILE_MODE, mtime: FIXED_MTIME }),
    );
    await this.#sink.write(data);
    await this.#pad(data.length);
  }

  /** Start a file whose length is not known yet; nothing else may be added until `end()`. */
  async beginFile(name: string): Promise<TarFileStream> {
    this.#assertIdle();
    // Validate the name now, not after gigabytes of content.
    encodeHeader({ name, type: 'file', size: 0, mode: FILE_MODE, mtime: FIXED_MTIME });
    this.#open = true;
    const headerAt = this.#sink.position;
    this.#sink.pin(headerAt, BLOCK);
    await this.#sink.write(ZERO_BLOCK);
    let size = 0;
    return {
      write: async (chunk: Uint8Array) => {
        size += chunk.length;
        if (size > USTAR_MAX_SIZE) {
          throw new CustosError('CUSTODY_TAR_LIMIT_EXCEEDED', 'Entry is larger than ustar allows', {
            details: { field: name, rule: `size ≤ ${USTAR_MAX_SIZE}` },
          });
        }
        await this.#sink.write(chunk);
      },
      end: async () => {
        await this.#pad(size);
        await this.#sink.patch(
          headerAt,
          encodeHeader({ name, type: 'file', size, mode: FILE_MODE, mtime: FIXED_MTIME }),
        );
        this.#open = false;
        return size;
      },
    };
  }

  /** Write the end-of-archive marker (two zero blocks). */
  async finish(): Promise<void> {
    this.#assertIdle();
    this.#finished = true;
    await this.#sink.write(Buffer.alloc(2 * BLOCK));
  }

  async #pad(size: number): Promise<void> {
    const rem = size % BLOCK;
    if (rem !== 0) await this.#sink.write(ZERO_BLOCK.subarray(0, BLOCK - rem));
  }
}
