// Filesystem archive backend: blobs at <root>/blobs/<aa>/<bb>/<sha256>, read-only (0444); written
// to a temporary name, fsynced, linked into place (link() never replaces a name), directory fsynced.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { fsyncDir } from '../io/fsync.ts';
import { checkAddress, digestMismatch, hashing, notFound, type BlobBackend } from './backend.ts';

function io(what: string, cause: unknown): CustosError {
  return new CustosError('CUSTODY_ARCHIVE_IO', `Archive filesystem: ${what}`, {
    cause,
    details: { field: 'archive', rule: what },
  });
}

export class FsBackend implements BlobBackend {
  readonly name: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.name = `fs:${root}`;
  }

  pathOf(sha256: string): string {
    checkAddress(sha256);
    return join(this.#root, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** Write to a private temporary file, verify, fsync; resolves to its path. */
  async #stage(sha256: string, source: AsyncIterable<Uint8Array>): Promise<string> {
    const tmpDir = join(this.#root, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const temp = join(tmpDir, `${sha256}.${randomBytes(6).toString('hex')}`);
    const fh = await open(temp, 'wx', 0o600);
    try {
      const h = hashing(source);
      for await (const chunk of h.stream) {
        let done = 0;
        while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      if (h.digest() !== sha256) throw digestMismatch(sha256, 'while archiving');
      await fh.sync();
      await fh.close();
      await chmod(temp, 0o444);
      return temp;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
  }

  async write(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const final = this.pathOf(sha256);
    if (await this.has(sha256)) return;
    const temp = await this.#stage(sha256, source);
    try {
      await mkdir(join(final, '..'), { recursive: true, mode: 0o700 });
      await link(temp, final);
      await fsyncDir(join(final, '..'));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw io('cannot place blob', cause);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async *read(sha256: string): AsyncGenerator<Buffer> {
    const path = this.pathOf(sha256);
    if (!(await this.has(sha256))) throw notFound(sha256);
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
  }

  async remove(sha256: string): Promise<void> {
    const path = this.pathOf(sha256);
    try {
      await rm(path, { force: true });
      await fsyncDir(join(path, '..'));
    } catch (cause) {
      throw io('cannot remove blob', cause);
    }
  }

  async restore(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const final = this.pathOf(sha256);
    const temp = await this.#stage(sha256, source);
    try {
      await mkdir(join(final, '..'), { recursive: true, mode: 0o700 });
      // The one replacement the archive allows: verified content over content that no longer matches.
      await rename(temp, final);
      await fsyncDir(join(final, '..'));
    } catch (cause) {
      await rm(temp, { force: true });
      throw io('cannot restore blob', cause);
    }
  }
}
