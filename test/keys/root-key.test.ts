import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLocalRootKeyFile,
  createPassphraseRootKey,
  openLocalRootKeyFile,
  openPassphraseRootKey,
  type PassphraseKdf,
} from '../../src/keys/index.ts';
import { CustosError } from '../../src/errors/index.ts';

const FAST_ARGON: PassphraseKdf = { kdf: 'argon2id', params: { memoryKiB: 8192, passes: 1, parallelism: 1 } };
const FAST_SCRYPT: PassphraseKdf = { kdf: 'scrypt', params: { N: 1024, r: 8, p: 1 } };
const PASSPHRASE = 'correct horse battery staple';
const aad = Buffer.from('custos/test');

async function failure(p: Promise<unknown>): Promise<CustosError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a CustosError');
}

describe('root key providers', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-root-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('local key file: created 0600 and exclusively, reopened to unwrap what it wrapped', async () => {
    const path = join(dir, 'root.key');
    const root = await createLocalRootKeyFile(path);
    expect(root.kind).toBe('local-file');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const sealed = await root.wrap(Buffer.from('kek material'), aad);
    const again = await openLocalRootKeyFile(path);
    expect((await again.unwrap(sealed, aad)).toString()).toBe('kek material');
    expect((await failure(again.unwrap(sealed, Buffer.from('other')))).code).toBe('KEYS_KEYRING_CORRUPT');
    const before = readFileSync(path);
    expect((await failure(createLocalRootKeyFile(path))).code).toBe('KEYS_ROOT_KEY_EXISTS');
    expect(readFileSync(path)).toEqual(before);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o607])(
    'refuses a key file with mode %o (group/world access)',
    async (mode) => {
      const path = join(dir, 'root.key');
      await createLocalRootKeyFile(path);
      chmodSync(path, mode);
      const err = await failure(openLocalRootKeyFile(path));
      expect(err.code).toBe('KEYS_ROOT_KEY_PERMISSIONS');
      expect(err.message).toContain(`mode 0${mode.toString(8)}`);
      expect(err.details).toMatchObject({ field: 'rootKeyFile', rule: 'mode 0600 or stricter' });
    },
  );

  it('accepts 0400, and names a missing or corrupt key file', async () => {
    const path = join(dir, 'root.key');
    await createLocalRootKeyFile(path);
    chmodSync(path, 0o400);
    await expect(openLocalRootKeyFile(path)).resolves.toBeDefined();
    expect((await failure(openLocalRootKeyFile(join(dir, 'none.key')))).code).toBe('KEYS_ROOT_KEY_MISSING');
    const text = readFileSync(path, 'utf8');
    const line = text.split('\n')[1]!;
    const cases: [string, string][] = [
      ['empty', ''],
      ['garbage', 'hello world\n'],
      ['two keys', `${line}\n${line}\n`],
      [
        'bad checksum',
        text.replace(
          /:([0-9a-f]{8})\n/,
          (_m, sum: string) => `:${sum === '00000000' ? '11111111' : '00000000'}\n`,
        ),
      ],
      ['truncated key', text.replace(/^(custos-root-key-v1:)(.{10})/m, '$1')],
      [
        'flipped key char',
        text.replace(/^(custos-root-key-v1:)(.)/m, (_m, p: string, c: string) => p + (c === 'A' ? 'B' : 'A')),
      ],
    ];
    for (const [name, content] of cases) {
      const p = join(dir, `${name}.key`);
      writeFileSync(p, content, { mode: 0o600 });
      expect((await failure(openLocalRootKeyFile(p))).code, name).toBe('KEYS_ROOT_KEY_CORRUPT');
    }
    const sub = join(dir, 'adir');
    mkdirSync(sub, { mode: 0o700 });
    expect((await failure(openLocalRootKeyFile(sub))).code).toBe('KEYS_ROOT_KEY_CORRUPT');
  });

  it.each([
    ['argon2id', FAST_ARGON],
    ['scrypt', FAST_SCRYPT],
  ] as const)(
    'passphrase (%s): parameters stored, same passphrase reopens, wrong one refused and nothing written',
    async (_n, kdf) => {
      const path = join(dir, 'root.params.json');
      const root = await createPassphraseRootKey(path, PASSPHRASE, { kdf });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const params = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(params).toMatchObject({
        format: 'custos-passphrase-root-key',
        version: 1,
        kdf: kdf.kdf,
        params: kdf.params,
      });
      expect(JSON.stringify(params)).not.toContain(PASSPHRASE);
      const sealed = await root.wrap(Buffer.from('secret'), aad);
      expect((await (await openPassphraseRootKey(path, PASSPHRASE)).unwrap(sealed, aad)).toString()).toBe(
        'secret',
      );

      const before = { bytes: readFileSync(path), mtime: statSync(path).mtimeMs, files: readdirSync(dir) };
      const err = await failure(openPassphraseRootKey(path, 'correct horse battery stapler'));
      expect(err.code).toBe('KEYS_PASSPHRASE_WRONG');
      expect(err.message).not.toContain('stapler');
      expect({ bytes: readFileSync(path), mtime: statSync(path).mtimeMs, files: readdirSync(dir) }).toEqual(
        before,
      );
      expect((await failure(createPassphraseRootKey(path, PASSPHRASE, { kdf }))).code).toBe(
        'KEYS_ROOT_KEY_EXISTS',
      );
    },
  );

  it('passphrase: refuses short passphrases, loose permissions, corrupt or absurd parameters', async () => {
    expect(
      (await failure(createPassphraseRootKey(join(dir, 'p.json'), 'short', { kdf: FAST_ARGON }))).code,
    ).toBe('INPUT_INVALID');
    const path = join(dir, 'root.params.json');
    await createPassphraseRootKey(path, PASSPHRASE, { kdf: FAST_ARGON });
    chmodSync(path, 0o644);
    expect((await failure(openPassphraseRootKey(path, PASSPHRASE))).code).toBe('KEYS_ROOT_KEY_PERMISSIONS');
    chmodSync(path, 0o600);
    const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const variants: unknown[] = [
      'not json',
      { ...good, format: 'other' },
      { ...good, kdf: 'md5' },
      { ...good, params: { memoryKiB: 2 ** 40, passes: 1, parallelism: 1 } },
      { ...good, salt: 'short' },
      { ...good, check: undefined },
    ];
    for (const v of variants) {
      const p = join(dir, `v${variants.indexOf(v)}.json`);
      writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v), { mode: 0o600 });
      expect((await failure(openPassphraseRootKey(p, PASSPHRASE))).code).toBe('KEYS_ROOT_KEY_CORRUPT');
    }
  });
});
