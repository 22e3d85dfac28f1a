import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../src/errors/index.ts';
import {
  AgeSink,
  decryptBytes,
  decryptStream,
  encryptBytes,
  generateIdentity,
  MemoryOutput,
  parseIdentity,
  parseIdentityFile,
  parseRecipient,
} from '../../src/custody/age/index.ts';
import { bech32Decode, bech32Encode } from '../../src/custody/age/bech32.ts';
import { bytesSource } from '../../src/custody/io/byte-reader.ts';
import testkit from '../vectors/age/testkit.json' with { type: 'json' };

interface Vector {
  readonly name: string;
  readonly expect: string;
  readonly identity: string;
  readonly payload?: string;
  readonly armored?: string;
  readonly header?: string;
  readonly comment?: string;
}

const EXPECT_CODE: Record<string, string> = {
  'header failure': 'CUSTODY_AGE_HEADER_INVALID',
  'no match': 'CUSTODY_AGE_NO_MATCH',
  'HMAC failure': 'CUSTODY_AGE_HMAC_INVALID',
  'payload failure': 'CUSTODY_AGE_PAYLOAD_INVALID',
};

/** Strict enough for the published success vectors: drop the armor lines, join base64 lines. */
function dearmor(text: string): Buffer {
  const lines = text.trim().split(/\r?\n/);
  expect(lines[0]).toBe('-----BEGIN AGE ENCRYPTED FILE-----');
  expect(lines.at(-1)).toBe('-----END AGE ENCRYPTED FILE-----');
  return Buffer.from(lines.slice(1, -1).join(''), 'base64');
}

function fileOf(v: Vector): Buffer {
  return v.armored !== undefined ? dearmor(v.armored) : Buffer.from(v.header ?? '', 'latin1');
}

async function outcome(
  file: Buffer,
  identity: string,
  slice?: number,
): Promise<{ code: string; sha256: string }> {
  const h = createHash('sha256');
  try {
    for await (const chunk of decryptStream(bytesSource(file, slice), [parseIdentity(identity)]))
      h.update(chunk);
    return { code: 'success', sha256: h.digest('hex') };
  } catch (err) {
    if (isCustosError(err)) return { code: err.code, sha256: h.digest('hex') };
    throw err;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'custos-age-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe(`age testkit vectors (${testkit.source})`, () => {
  for (const v of testkit.cases as Vector[]) {
    for (const [variant, slice] of [
      ['whole', undefined],
      ['streaming 4 KiB', 4096],
      ['byte by byte', 1],
    ] as const) {
      it(`${v.name}: ${v.expect} (${variant})`, async () => {
        const got = await outcome(fileOf(v), v.identity, slice);
        if (v.expect === 'success') {
          expect(got).toEqual({ code: 'success', sha256: v.payload });
        } else {
          expect(got.code).toBe(EXPECT_CODE[v.expect]);
        }
      });
    }
  }
});

describe('age keys', () => {
  it('bech32 round-trips and rejects mixed case and bad checksums', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (data) => {
        const s = bech32Encode('age', data);
        expect(bech32Decode(s).data.equals(Buffer.from(data))).toBe(true);
        expect(bech32Decode(s.toUpperCase()).hrp).toBe('age');
      }),
    );
    const { recipient } = generateIdentity();
    expect(() => bech32Decode(recipient.slice(0, 10) + recipient.slice(10).toUpperCase())).toThrow(
      /mixed case/,
    );
    const flipped = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
    expect(() => parseRecipient(flipped)).toThrow(/checksum/);
  });

  it('derives the recipient of an identity like age-keygen -y', () => {
    const key = join(dir, 'k.txt');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const expected = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
    const [id] = parseIdentityFile(readFileSync(key, 'utf8'));
    expect(id?.recipient.text).toBe(expected);
    expect(() => parseIdentity(generateIdentity().identity.toLowerCase())).toThrow(/uppercase/);
    expect(() =>
      parseRecipient(parseIdentity(generateIdentity().identity).recipient.text.replace('age1', 'age2')),
    ).toThrow();
  });
});

describe('age encryption', () => {
  it('round-trips any payload size, including chunk boundaries', async () => {
    const { identity, recipient } = generateIdentity();
    const id = parseIdentity(identity);
    const r = parseRecipient(recipient);
    for (const n of [0, 1, 65535, 65536, 65537, 131072, 200_000]) {
      const plain = randomBytes(n);
      const ct = await encryptBytes(plain, [r]);
      expect((await decryptBytes(ct, [id])).equals(plain)).toBe(true);
    }
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 1, max: 500 }),
        async (data, slice) => {
          const ct = await encryptBytes(data, [r]);
          const parts: Buffer[] = [];
          for await (const p of decryptStream(bytesSource(ct, slice), [id])) parts.push(Buffer.from(p));
          expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('patches a pinned region without ever sealing a chunk twice', async () => {
    const { identity, recipient } = generateIdentity();
    const out = new MemoryOutput();
    const sink = new AgeSink(out, [parseRecipient(recipient)]);
    await sink.write(Buffer.alloc(65530, 1));
    sink.pin(65530, 512); // straddles chunks 0 and 1
    await sink.write(Buffer.alloc(512));
    await sink.write(Buffer.alloc(300_000, 2));
    await sink.patch(65530, Buffer.alloc(512, 9));
    await sink.close();
    const plain = await decryptBytes(out.bytes(), [parseIdentity(identity)]);
    expect(plain.length).toBe(65530 + 512 + 300_000);
    expect(plain.subarray(65530, 66042).every((b) => b === 9)).toBe(true);
    expect(plain.subarray(66042).every((b) => b === 2)).toBe(true);
  });

  it('detects truncation, reordering, a dropped final chunk, a wrong MAC and a wrong identity', async () => {
    const { identity, recipient } = generateIdentity();
    const id = parseIdentity(identity);
    const ct = await encryptBytes(randomBytes(150_000), [parseRecipient(recipient)]);
    const code = async (bytes: Buffer, ids = [id]): Promise<string> => {
      try {
        await decryptBytes(bytes, ids);
        return 'success';
      } catch (err) {
        return isCustosError(err) ? err.code : 'other';
      }
    };
    expect(await code(ct.subarray(0, ct.length - 10))).toBe('CUSTODY_AGE_PAYLOAD_INVALID');
    const headerEnd = ct.indexOf('\n---') + 1 + ct.subarray(ct.indexOf('\n---') + 1).indexOf(0x0a) + 1;
    const body = headerEnd + 16;
    const swapped = Buffer.concat([
      ct.subarray(0, body),
      ct.subarray(body + 65552, body + 2 * 65552),
      ct.subarray(body, body + 65552),
      ct.subarray(body + 2 * 65552),
    ]);
    expect(await code(swapped)).toBe('CUSTODY_AGE_PAYLOAD_INVALID');
    expect(await code(ct.subarray(0, body + 2 * 65552))).toBe('CUSTODY_AGE_PAYLOAD_INVALID');
    const badMac = Buffer.from(ct);
    badMac[headerEnd - 3] = badMac[headerEnd - 3] === 0x41 ? 0x42 : 0x41;
    expect(await code(badMac)).toBe('CUSTODY_AGE_HMAC_INVALID');
    expect(await code(ct, [parseIdentity(generateIdentity().identity)])).toBe('CUSTODY_AGE_NO_MATCH');
    expect(await code(Buffer.concat([ct, Buffer.of(0)]))).toBe('CUSTODY_AGE_PAYLOAD_INVALID');
  });
});

describe('interop with the stock age CLI', () => {
  it('age -d decrypts what we encrypt, to several recipients', async () => {
    const key = join(dir, 'cli.key');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const theirs = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
    const plain = randomBytes(300_000);
    const ct = await encryptBytes(plain, [
      parseRecipient(generateIdentity().recipient),
      parseRecipient(theirs),
    ]);
    const file = join(dir, 'ours.age');
    writeFileSync(file, ct);
    const out = execFileSync('age', ['-d', '-i', key, file], { maxBuffer: 1 << 24 });
    expect(out.equals(plain)).toBe(true);
  });

  it('we decrypt what age -r encrypts, including an empty file', async () => {
    const { identity, recipient } = generateIdentity();
    for (const n of [0, 65536, 100_000]) {
      const plain = randomBytes(n);
      const input = join(dir, `plain-${n}`);
      const file = join(dir, `theirs-${n}.age`);
      writeFileSync(input, plain);
      execFileSync('age', ['-r', recipient, '-o', file, input]);
      expect((await decryptBytes(readFileSync(file), [parseIdentity(identity)])).equals(plain)).toBe(true);
    }
  });
});
