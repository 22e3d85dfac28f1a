// age encryption to X25519 recipients as a ByteSink. STREAM chunks are independent, so a pinned
// chunk (holding a header to be patched) is held back in plaintext and sealed exactly once, after
// its patch; every other chunk is sealed and written at its fixed offset as soon as it is full.
import type { FileHandle } from 'node:fs/promises';
import { createHmac, hkdfSync } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';
import { randomBytes } from '../../crypto/index.ts';
import type { ByteSink } from '../io/sink.ts';
import { encodeHeader, encodeHeaderNoMac } from './header.ts';
import type { AgeRecipient } from './keys.ts';
import { CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, payloadKey, sealChunk } from './stream.ts';
import { FILE_KEY_SIZE, wrapX25519 } from './x25519-stanza.ts';

/** Where ciphertext goes: positional writes (a file, or memory in tests). */
export interface PositionalOutput {
  writeAt(data: Uint8Array, offset: number): Promise<void>;
}

export function fileOutput(fh: FileHandle): PositionalOutput {
  return {
    async writeAt(data, offset) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    },
  };
}

/** Growable in-memory output. */
export class MemoryOutput implements PositionalOutput {
  #buf = Buffer.alloc(0);
  #len = 0;

  writeAt(data: Uint8Array, offset: number): Promise<void> {
    const end = offset + data.length;
    if (end > this.#buf.length) {
      const next = Buffer.alloc(Math.max(end, this.#buf.length * 2));
      this.#buf.copy(next);
      this.#buf = next;
    }
    this.#buf.set(data, offset);
    this.#len = Math.max(this.#len, end);
    return Promise.resolve();
  }

  bytes(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

/** The header (with MAC) for a fresh file key wrapped to every recipient. */
export function buildHeader(fileKey: Uint8Array, recipients: readonly AgeRecipient[]): Buffer {
  if (recipients.length === 0) {
    throw new CustosError('CUSTODY_AGE_KEY_INVALID', 'At least one age recipient is required', {
      details: { field: 'recipient', rule: 'one or more age1… recipients' },
    });
  }
  const stanzas = recipients.map((r) => wrapX25519(fileKey, r));
  const hmacKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
  const mac = createHmac('sha256', hmacKey).update(encodeHeaderNoMac(stanzas)).digest();
  return encodeHeader(stanzas, mac);
}

interface Pin {
  readonly start: number;
  readonly end: number;
}

const FLUSH_BYTES = 1024 * 1024;

/** Encrypts everything written to it; `close()` seals the final chunk. */
export class AgeSink implements ByteSink {
  readonly #out: PositionalOutput;
  readonly #key: Buffer;
  readonly #header: Buffer;
  readonly #nonce: Buffer;
  #started = false;
  #cur = Buffer.alloc(CHUNK_SIZE);
  #curLen = 0;
  #curIndex = 0;
  readonly #held = new Map<number, Buffer>();
  #pins: Pin[] = [];
  #pending: Buffer[] = [];
  #pendingAt = 0;
  #pendingBytes = 0;
  position = 0;

  constructor(out: PositionalOutput, recipients: readonly AgeRecipient[]) {
    const fileKey = randomBytes(FILE_KEY_SIZE);
    this.#out = out;
    this.#header = buildHeader(fileKey, recipients);
    this.#nonce = randomBytes(NONCE_SIZE);
    this.#key = payloadKey(fileKey, this.#nonce);
  }

  /** Ciphertext offset of chunk `index`. */
  #offsetOf(index: number): number {
    return this.#header.length + NONCE_SIZE + index * ENCRYPTED_CHUNK_SIZE;
  }

  #pinned(index: number): boolean {
    const start = index * CHUNK_SIZE;
    const end = start + CHUNK_SIZE;
    return this.#pins.some((p) => p.start < end && p.end > start);
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      await this.#emit(Buffer.concat([this.#header, this.#nonce]), 0);
    }
    let off = 0;
    while (off < data.length) {
      if (this.#curLen === CHUNK_SIZE) await this.#advance();
      const n = Math.min(CHUNK_SIZE - this.#curLen, data.length - off);
      this.#cur.set(data.subarray(off, off + n), this.#curLen);
      this.#curLen += n;
      off += n;
    }
    this.position += data.length;
  }

  /** The current (full) chunk is not the last one: seal it now, or hold it while pinned. */
  async #advance(): Promise<void> {
    if (this.#pinned(this.#curIndex)) this.#held.set(this.#curIndex, Buffer.from(this.#cur));
    else
      await this.#emit(
        sealChunk(this.#key, this.#curIndex, false, this.#cur),
        this.#offsetOf(this.#curIndex),
      );
    this.#curIndex++;
    this.#curLen = 0;
  }

  pin(offset: number, length: number): void {
    if (offset < this.#curIndex * CHUNK_SIZE)
      throw new CustosError('INTERNAL', 'Pin on an already sealed chunk');
    this.#pins.push({ start: offset, end: offset + length });
  }

  async patch(offset: number, data: Uint8Array): Promise<void> {
    const end = offset + data.length;
    if (!this.#pins.some((p) => p.start === offset && p.end === end))
      throw new CustosError('INTERNAL', 'Patch of an unpinned region');
    const touched = new Set<number>();
    for (let pos = offset; pos < end;) {
      const index = Math.floor(pos / CHUNK_SIZE);
      const within = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, end - pos);
      const target = index === this.#curIndex ? this.#cur : this.#held.get(index);
      if (target === undefined) throw new CustosError('INTERNAL', 'Pinned chunk is missing');
      target.set(data.subarray(pos - offset, pos - offset + n), within);
      touched.add(index);
      pos += n;
    }
    this.#pins = this.#pins.filter((p) => !(p.start === offset && p.end === end));
    for (const index of touched) {
      const held = this.#held.get(index);
      if (held === undefined || this.#pinned(index)) continue;
      this.#held.delete(index);
      await this.#emit(sealChunk(this.#key, index, false, held), this.#offsetOf(index));
    }
  }

  async close(): Promise<void> {
    if (this.#pins.length > 0 || this.#held.size > 0)
      throw new CustosError('INTERNAL', 'age sink closed with unpatched regions');
    if (!this.#started) await this.write(Buffer.alloc(0));
    // The final chunk carries the last flag; it is empty only when the whole payload is.
    await this.#emit(
      sealChunk(this.#key, this.#curIndex, true, this.#cur.subarray(0, this.#curLen)),
      this.#offsetOf(this.#curIndex),
    );
    await this.#flush();
  }

  async #emit(data: Buffer, offset: number): Promise<void> {
    if (this.#pendingBytes > 0 && offset !== this.#pendingAt + this.#pendingBytes) await this.#flush();
    if (this.#pendingBytes === 0) this.#pendingAt = offset;
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const buf = Buffer.concat(this.#pending, this.#pendingBytes);
    const at = this.#pendingAt;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#out.writeAt(buf, at);
  }
}

/** Encrypt a whole buffer (tests and small payloads). */
export async function encryptBytes(
  plaintext: Uint8Array,
  recipients: readonly AgeRecipient[],
): Promise<Buffer> {
  const out = new MemoryOutput();
  const sink = new AgeSink(out, recipients);
  await sink.write(plaintext);
  await sink.close();
  return out.bytes();
}
