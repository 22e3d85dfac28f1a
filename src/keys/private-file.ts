// Reading and creating files that hold key material: owner-only (0600), created exclusively,
// refused when group or others may read them.
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';
import { CustosError } from '../errors/index.ts';

/** Which key file is meant, for error messages and details. */
export interface KeyFileRole {
  /** Human name, e.g. "Root key file". */
  readonly name: string;
  /** The config/CLI field that names the path. */
  readonly field: string;
}

const MAX_KEY_FILE_BYTES = 64 * 1024;

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Read a key file after checking, on the open descriptor, that it is a regular file readable by its owner only.
 * Throws KEYS_ROOT_KEY_MISSING, KEYS_ROOT_KEY_PERMISSIONS (mode & 0o077) or KEYS_ROOT_KEY_CORRUPT (not a file, too big).
 */
export async function readPrivateFile(path: string, role: KeyFileRole): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY);
  } catch (cause) {
    const code = errnoCode(cause);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CustosError('KEYS_ROOT_KEY_MISSING', `${role.name} does not exist`, {
        cause,
        details: { field: role.field, rule: 'existing file' },
      });
    }
    throw new CustosError('KEYS_ROOT_KEY_MISSING', `${role.name} cannot be opened (${code ?? 'error'})`, {
      cause,
      details: { field: role.field, rule: 'readable file' },
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new CustosError('KEYS_ROOT_KEY_CORRUPT', `${role.name} is not a regular file`, {
        details: { field: role.field, rule: 'regular file' },
      });
    }
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new CustosError(
        'KEYS_ROOT_KEY_PERMISSIONS',
        `${role.name} is accessible by group or others (mode ${mode}); run chmod 600 on it`,
        { details: { field: role.field, rule: 'mode 0600 or stricter', mode } },
      );
    }
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new CustosError('KEYS_ROOT_KEY_CORRUPT', `${role.name} is too large to be a key file`, {
        details: { field: role.field, rule: `at most ${MAX_KEY_FILE_BYTES} bytes` },
      });
    }
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * Create a key file with mode 0600, failing if anything exists at `path`, and make it durable.
 * Throws KEYS_ROOT_KEY_EXISTS, or DATA_DIR_UNREADABLE when the directory cannot be written.
 */
export async function createPrivateFile(path: string, data: Uint8Array, role: KeyFileRole): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (cause) {
    if (errnoCode(cause) === 'EEXIST') {
      throw new CustosError('KEYS_ROOT_KEY_EXISTS', `${role.name} already exists; refusing to overwrite it`, {
        cause,
        details: { field: role.field, rule: 'must not exist yet' },
      });
    }
    throw new CustosError(
      'DATA_DIR_UNREADABLE',
      `${role.name} cannot be created (${errnoCode(cause) ?? 'error'})`,
      {
        cause,
        details: { field: role.field, rule: 'writable directory' },
      },
    );
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dh = await open(dir, constants.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
