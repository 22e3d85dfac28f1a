import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/errors/index.ts';
import { bytesSource } from '../../src/custody/io/byte-reader.ts';
import { MemorySink } from '../../src/custody/io/sink.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../../src/custody/limits.ts';
import { readTar } from '../../src/custody/tar/reader.ts';
import { TarWriter } from '../../src/custody/tar/writer.ts';
import { rawEntry, rawTar } from './helpers/raw-tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'custos-tar-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function readAll(
  bytes: Buffer,
  limits: BundleLimits = DEFAULT_LIMITS,
  slice?: number,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const e of readTar(bytesSource(bytes, slice), limits)) {
    if (e.type === 'file') out.set(e.name, await e.readAll(1 << 30));
  }
  return out;
}

async function writeTar(files: readonly [string, Buffer][], streamed = false): Promise<Buffer> {
  const sink = new MemorySink();
  const tar = new TarWriter(sink);
  for (const [name, data] of files) {
    if (streamed) {
      const s = await tar.beginFile(name);
      for (let i = 0; i < data.length; i += 777) await s.write(data.subarray(i, i + 777));
      await s.end();
    } else {
      await tar.addFile(name, data);
    }
  }
  await tar.finish();
  return sink.bytes();
}

async function refusal(bytes: Buffer, limits: BundleLimits = DEFAULT_LIMITS): Promise<string> {
  try {
    await readAll(bytes, limits);
  } catch (err) {
    if (isCustosError(err)) return `${err.code}: ${String(err.details.rule)}`;
    throw err;
  }
  return 'accepted';
}

describe('ustar writer and reader', () => {
  it('round-trips files, whole and streamed, in any slicing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.tuple(
            fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}(\/[a-z][a-z0-9._-]{0,20}){0,2}$/),
            fc.uint8Array({ maxLength: 2000 }),
          ),
          {
            maxLength: 6,
            selector: ([n]) => n,
          },
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 1500 }),
        async (entries, streamed, slice) => {
          // names that are prefixes of other names as directories are not representable as files
          const names = entries.map(([n]) => n);
          fc.pre(!names.some((a) => names.some((b) => b.startsWith(`${a}/`))));
          fc.pre(new Set(names.map((n) => n.toLowerCase())).size === names.length);
          const files = entries.map(([n, d]) => [n, Buffer.from(d)] as [string, Buffer]);
          const tar = await writeTar(files, streamed);
          const read = await readAll(tar, DEFAULT_LIMITS, slice);
          expect([...read.keys()]).toEqual(names);
          for (const [n, d] of files) expect(read.get(n)?.equals(d)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is deterministic: same files, same bytes (mtime 0, uid/gid 0, no user names)', async () => {
    const files: [string, Buffer][] = [
      ['bagit.txt', Buffer.from('x')],
      ['data/a.ndjson', Buffer.alloc(1000, 1)],
    ];
    const a = await writeTar(files);
    const b = await writeTar(files, true);
    expect(a.equals(b)).toBe(true);
    expect(a.subarray(136, 147).toString('latin1')).toBe('00000000000');
    expect(a.subarray(265, 297).every((x) => x === 0)).toBe(true);
  });

  it('splits long names into prefix and name, and refuses names that cannot fit', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const tar = await writeTar([[long, Buffer.from('hi')]]);
    expect((await readAll(tar)).get(long)?.toString()).toBe('hi');
    await expect(writeTar([['x'.repeat(101), Buffer.alloc(0)]])).rejects.toMatchObject({
      code: 'CUSTODY_TAR_LIMIT_EXCEEDED',
    });
  });

  it('interoperates with GNU tar in both directions', async () => {
    const ours = await writeTar([
      ['bagit.txt', Buffer.from('BagIt-Version: 1.0\n')],
      ['data/records.ndjson', Buffer.alloc(70_000, 0x61)],
    ]);
    const file = join(dir, 'ours.tar');
    writeFileSync(file, ours);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    expect(listing).toContain('data/records.ndjson');
    expect(listing).toContain('70000');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'data'), { recursive: true });
    writeFileSync(join(src, 'bagit.txt'), 'hello\n');
    writeFileSync(join(src, 'data', 'x.bin'), Buffer.alloc(5000, 7));
    const theirs = join(dir, 'theirs.tar');
    execFileSync('tar', ['--format=ustar', '-cf', theirs, '-C', src, 'bagit.txt', 'data']);
    const read = await readAll(readFileSync(theirs));
    expect(read.get('bagit.txt')?.toString()).toBe('hello\n');
    expect(read.get('data/x.bin')?.length).toBe(5000);
  });
});

describe('hostile archives are refused before anything is kept', () => {
  const cases: [string, Buffer, string][] = [
    [
      'path traversal',
      rawTar([{ name: '../evil', data: Buffer.from('x') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: parent directory component (..)',
    ],
    [
      'nested traversal',
      rawTar([{ name: 'data/../../evil', data: Buffer.from('x') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: parent directory component (..)',
    ],
    [
      'traversal in prefix',
      rawTar([{ name: 'x', prefix: '..', data: Buffer.from('x') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: parent directory component (..)',
    ],
    [
      'absolute path',
      rawTar([{ name: '/etc/passwd', data: Buffer.from('x') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: absolute path',
    ],
    [
      'backslash',
      rawTar([{ name: 'data\\..\\x', data: Buffer.from('x') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: backslash in path',
    ],
    [
      'symlink',
      rawTar([{ name: 'data/link', type: '2', linkname: '/etc/passwd' }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: symbolic link entries are not allowed',
    ],
    [
      'hard link',
      rawTar([{ name: 'data/link', type: '1', linkname: 'bagit.txt' }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: hard link entries are not allowed',
    ],
    [
      'character device',
      rawTar([{ name: 'dev', type: '3' }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: character device entries are not allowed',
    ],
    ['FIFO', rawTar([{ name: 'fifo', type: '6' }]), 'CUSTODY_TAR_UNSAFE_ENTRY: FIFO entries are not allowed'],
    [
      'pax header',
      rawTar([{ name: 'pax', type: 'x', data: Buffer.from('30 path=../../evil\n') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: pax extended header entries are not allowed',
    ],
    [
      'GNU long name',
      rawTar([{ name: '././@LongLink', type: 'L', data: Buffer.from('../evil') }]),
      'CUSTODY_TAR_UNSAFE_ENTRY: GNU long name entries are not allowed',
    ],
    [
      'duplicate names',
      rawTar([
        { name: 'a.txt', data: Buffer.from('1') },
        { name: 'a.txt', data: Buffer.from('2') },
      ]),
      'CUSTODY_TAR_DUPLICATE_ENTRY: unique names (case- and normalization-insensitive)',
    ],
    [
      'case-folded duplicate',
      rawTar([
        { name: 'A.txt', data: Buffer.from('1') },
        { name: 'a.txt', data: Buffer.from('2') },
      ]),
      'CUSTODY_TAR_DUPLICATE_ENTRY: unique names (case- and normalization-insensitive)',
    ],
    [
      'file used as directory',
      rawTar([
        { name: 'data', data: Buffer.from('1') },
        { name: 'data/x', data: Buffer.from('2') },
      ]),
      'CUSTODY_TAR_DUPLICATE_ENTRY: no entry below a file',
    ],
    [
      'old GNU magic',
      rawTar([{ name: 'a', magic: 'ustar  \0', data: Buffer.from('1') }]),
      'CUSTODY_TAR_INVALID: not a POSIX ustar header (magic "ustar\\0" version "00")',
    ],
    [
      'truncated content',
      rawEntry({ name: 'a', size: 4096, data: Buffer.alloc(100) }).subarray(0, 612),
      'CUSTODY_TAR_INVALID: complete entries and a two-block end-of-archive marker',
    ],
    [
      'no end marker',
      rawEntry({ name: 'a', data: Buffer.from('1') }),
      'CUSTODY_TAR_INVALID: complete entries and a two-block end-of-archive marker',
    ],
    [
      'garbage after end',
      Buffer.concat([rawTar([{ name: 'a', data: Buffer.from('1') }]), Buffer.from('evil')]),
      'CUSTODY_TAR_INVALID: only zero padding after the end-of-archive marker',
    ],
  ];
  for (const [title, bytes, expected] of cases) {
    it(`refuses ${title}`, async () => {
      expect(await refusal(bytes)).toBe(expected);
    });
  }

  it('refuses a bad checksum', async () => {
    const t = rawTar([{ name: 'a', data: Buffer.from('1') }]);
    t[0] = 0x62;
    expect(await refusal(t)).toBe('CUSTODY_TAR_INVALID: header checksum mismatch');
  });

  it('refuses a million tiny entries at the entry limit, cheaply', async () => {
    // A generator, so the million entries are never materialized: the reader stops at the limit.
    let produced = 0;
    async function* million(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield await Promise.resolve(rawEntry({ name: `f${i}`, data: Buffer.from('1') }));
      }
    }
    const start = Date.now();
    let err: unknown;
    try {
      for await (const e of readTar(million(), { ...DEFAULT_LIMITS })) expect(e.size).toBe(1);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CUSTODY_TAR_LIMIT_EXCEEDED' });
    expect(produced).toBeLessThanOrEqual(DEFAULT_LIMITS.maxEntries + 2);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('refuses entries over the size and total limits from the header alone', async () => {
    const big = rawHeader8g();
    expect(await refusal(big, { ...DEFAULT_LIMITS, maxEntrySize: 1024 })).toMatch(
      /^CUSTODY_TAR_LIMIT_EXCEEDED: entry size/,
    );
    const two = rawTar([
      { name: 'a', data: Buffer.alloc(600) },
      { name: 'b', data: Buffer.alloc(600) },
    ]);
    expect(await refusal(two, { ...DEFAULT_LIMITS, maxTotalSize: 1000 })).toMatch(
      /^CUSTODY_TAR_LIMIT_EXCEEDED: total content/,
    );
  });

  it('refuses trailing padding beyond the limit', async () => {
    const t = Buffer.concat([rawTar([{ name: 'a', data: Buffer.from('1') }]), Buffer.alloc(4096)]);
    expect(await refusal(t, { ...DEFAULT_LIMITS, maxTrailingPadding: 1024 })).toMatch(
      /^CUSTODY_TAR_LIMIT_EXCEEDED/,
    );
    expect(await refusal(t)).toBe('accepted');
  });
});

function rawHeader8g(): Buffer {
  return rawEntry({ name: 'huge', size: 8 * 1024 ** 3 - 1 }).subarray(0, 512);
}
