import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDigestWorkers, createDualDigest, type Offload } from '../../src/custody/digest/dual-digest.ts';
import { fileChunks } from '../../src/custody/io/file-chunks.ts';
import { ChunkPool } from '../../src/custody/io/chunk-pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'custos-digest-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeDigestWorkers();
});

const data = randomBytes(3 * 1024 * 1024 + 12345);

/** Slices of `data` of varying sizes, some larger than one ring slot. */
function slices(sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('dual digest', () => {
  const offloads: Offload[] = ['both', 'sha512'];
  for (const offload of offloads) {
    for (const threshold of [0, 1000, 64 * 1024 * 1024]) {
      it(`gives node:crypto's SHA-256 and SHA-512 (offload ${offload}, threshold ${threshold})`, async () => {
        for (const sizes of [[data.length], [4096, 7], [2_500_000, 333], [1024 * 1024]]) {
          const d = createDualDigest({ offload, threshold });
          for (const s of slices(sizes)) await d.update(s);
          const r = await d.digest();
          expect(r.size).toBe(data.length);
          expect(r.sha256.equals(createHash('sha256').update(data).digest())).toBe(true);
          expect(r.sha512.equals(createHash('sha512').update(data).digest())).toBe(true);
        }
      });
    }
  }

  it('digests the empty stream', async () => {
    const r = await createDualDigest({ threshold: 0 }).digest();
    expect(r.size).toBe(0);
    expect(r.sha256.toString('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('runs streams one after another on reused workers', async () => {
    for (let i = 0; i < 3; i++) {
      const part = data.subarray(i * 1000);
      const d = createDualDigest({ threshold: 0, offload: i % 2 === 0 ? 'sha512' : 'both' });
      await d.update(part);
      expect((await d.digest()).sha512.equals(createHash('sha512').update(part).digest())).toBe(true);
    }
  });
});

describe('chunk pool', () => {
  it('hands out each chunk to one taker at a time, and a chunk again once its last holder releases it', async () => {
    const pool = new ChunkPool(2, 16);
    const a = await pool.take();
    const b = await pool.take();
    expect(a.length).toBe(16);
    expect(a.buffer).toBe(b.buffer);
    expect(a.byteOffset).not.toBe(b.byteOffset);
    let third: Buffer | undefined;
    const waiting = pool.take().then((c) => (third = c));
    pool.retain(a.subarray(3, 9), 2);
    pool.release(a);
    pool.releaseAt(a.byteOffset + 5);
    await Promise.resolve();
    expect(third).toBeUndefined();
    pool.release(a.subarray(15));
    await waiting;
    expect(third?.byteOffset).toBe(a.byteOffset);
    expect(pool.freeCount).toBe(0);
  });

  it('knows its own chunks, ignores other bytes on release, and refuses releasing a free chunk', async () => {
    const pool = new ChunkPool(2, 16);
    const a = await pool.take();
    expect(pool.owns(a)).toBe(true);
    expect(pool.owns(a.subarray(4, 8))).toBe(true);
    expect(pool.owns(Buffer.from(a))).toBe(false);
    expect(pool.owns(a.subarray(0, 0))).toBe(false);
    expect(pool.owns(Buffer.from(pool.memory).subarray(10, 20))).toBe(false); // spans two chunks
    pool.release(Buffer.alloc(16));
    expect(pool.freeCount).toBe(1);
    pool.release(a);
    expect(pool.freeCount).toBe(2);
    expect(() => {
      pool.release(a);
    }).toThrow(/free chunk/);
    expect(() => {
      pool.retain(a);
    }).toThrow(/not taken/);
    expect(() => new ChunkPool(0, 16)).toThrow(RangeError);
  });

  it('stops every taker, waiting or not, once a consumer holding chunks failed', async () => {
    const pool = new ChunkPool(1, 16);
    const held = await pool.take();
    const waiting = pool.take();
    const dead = new Error('hashing worker exited');
    pool.fail(dead);
    await expect(waiting).rejects.toBe(dead);
    await expect(pool.take()).rejects.toBe(dead);
    pool.release(held);
    await expect(pool.take()).rejects.toBe(dead);
  });

  for (const offload of ['both', 'sha512'] as const) {
    it(`is hashed in place by the digest workers, each chunk reused only once read (offload ${offload})`, async () => {
      // Two chunks only: the producer must wait for the workers before it overwrites one.
      const pool = new ChunkPool(2, 100_000);
      const d = createDualDigest({ offload, threshold: 0, pool });
      for (let at = 0; at < data.length;) {
        const chunk = await pool.take();
        const n = Math.min(chunk.length - (at % 7), data.length - at);
        chunk.fill(0xee); // whatever a reused chunk held before
        data.copy(chunk, 0, at, at + n);
        await d.update(chunk.subarray(0, n));
        pool.release(chunk);
        at += n;
      }
      // Bytes from elsewhere still go through the workers' own ring.
      const tail = Buffer.from('tail');
      await d.update(tail);
      const r = await d.digest();
      const whole = Buffer.concat([data, tail]);
      expect(r.size).toBe(whole.length);
      expect(r.sha256.equals(createHash('sha256').update(whole).digest())).toBe(true);
      expect(r.sha512.equals(createHash('sha512').update(whole).digest())).toBe(true);
      expect(pool.freeCount).toBe(2);
    });
  }
});

describe('file chunks', () => {
  const path = join(dir, 'f.bin');
  writeFileSync(path, data);

  it('read the whole file in chunks of at most the given size, one read ahead', async () => {
    const fh = await open(path, 'r');
    try {
      const copies: Buffer[] = [];
      for await (const c of fileChunks(fh, 100_000)) {
        expect(c.length).toBeLessThanOrEqual(100_000);
        copies.push(Buffer.from(c));
      }
      expect(Buffer.concat(copies).equals(data)).toBe(true);
    } finally {
      await fh.close();
    }
  });

  it('keep a chunk intact while the next two are taken', async () => {
    const fh = await open(path, 'r');
    try {
      const held: Buffer[] = [];
      let at = 0;
      for await (const c of fileChunks(fh, 65_536)) {
        held.push(c);
        if (held.length > 3) held.shift();
        // The oldest chunk still held is the one three back: still the file's bytes.
        const oldest = held[0] ?? c;
        const start = at - (held.length - 1) * 65_536;
        expect(oldest.equals(data.subarray(start, start + oldest.length))).toBe(true);
        at += c.length;
      }
    } finally {
      await fh.close();
    }
  });

  it('stop early without a read left in flight', async () => {
    const fh = await open(path, 'r');
    for await (const c of fileChunks(fh)) {
      expect(c.length).toBeGreaterThan(0);
      break;
    }
    await fh.close();
  });
});
