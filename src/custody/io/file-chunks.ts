// Reading a file as a stream of chunks through a small ring of reused buffers, one read always
// ahead: no per-chunk allocation (so no garbage collection of external memory while verifying).
import type { FileHandle } from 'node:fs/promises';

export const FILE_CHUNK = 1024 * 1024;
/**
 * Buffers in the ring. A chunk's memory is reused when the chunk RING positions later is read, so
 * a consumer may hold slices of the current chunk and the RING - 2 before it (ByteReader keeps at
 * most two: a header or an age chunk spanning a boundary).
 */
const RING = 4;

/**
 * The bytes of an open file from offset 0, in chunks of at most `chunk` bytes. Each chunk stays
 * valid until two more have been taken; copy what must live longer. The file is not closed here.
 */
export async function* fileChunks(fh: FileHandle, chunk = FILE_CHUNK): AsyncGenerator<Buffer> {
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafe(chunk));
  let position = 0;
  let i = 0;
  const readInto = (buf: Buffer, at: number): Promise<{ bytesRead: number }> =>
    fh.read(buf, 0, buf.length, at);
  let next = readInto(ring[0] as Buffer, 0);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const current = (ring[i % RING] as Buffer).subarray(0, bytesRead);
      position += bytesRead;
      i++;
      // Read ahead while the consumer works on the current chunk.
      next = readInto(ring[i % RING] as Buffer, position);
      yield current;
    }
  } finally {
    // A read still in flight when the consumer stops must settle before the file is closed.
    await next.catch(() => undefined);
  }
}
