// Durable file placement: fsync a directory after a rename or link so the new name survives a crash.
import { open } from 'node:fs/promises';

/** fsync a directory; platforms that cannot open directories for sync are tolerated. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw err;
  } finally {
    await fh?.close();
  }
}
