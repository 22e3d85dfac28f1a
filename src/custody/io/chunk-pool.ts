// A fixed set of equal byte chunks in one SharedArrayBuffer, handed round a streaming pipeline
// and reused: the producer fills a chunk, each consumer (hashing threads, the file writer) holds it
// while it works, and the last release returns it to the free list. Bytes stay where they were
// written: hashing workers read them in place, and no chunk is allocated (or page-faulted) per MiB.

/** Chunks a producer fills and consumers release; see ChunkPool. */
export class ChunkPool {
  readonly chunkBytes: number;
  /** The memory of every chunk; hashing workers map it once. */
  readonly memory: SharedArrayBuffer;
  readonly #view: Buffer;
  readonly #holders: Int32Array;
  readonly #free: number[] = [];
  #waiters: (() => void)[] = [];
  #failure: Error | undefined;

  constructor(count: number, chunkBytes: number) {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(chunkBytes) || chunkBytes < 1)
      throw new RangeError('ChunkPool needs a positive chunk count and size');
    this.chunkBytes = chunkBytes;
    this.memory = new SharedArrayBuffer(count * chunkBytes);
    this.#view = Buffer.from(this.memory);
    this.#holders = new Int32Array(count);
    for (let i = count - 1; i >= 0; i--) this.#free.push(i);
  }

  /**
   * A whole free chunk with one holder (the caller); waits while every chunk is held. Throws the
   * error the pool failed with (see `fail`).
   */
  async take(): Promise<Buffer> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const slot = this.#free.pop();
      if (slot !== undefined) {
        this.#holders[slot] = 1;
        return this.#view.subarray(slot * this.chunkBytes, (slot + 1) * this.chunkBytes);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** True when `bytes` lie inside one of this pool's chunks. */
  owns(bytes: Uint8Array): boolean {
    return bytes.buffer === this.memory && bytes.byteLength > 0 && this.#slotOf(bytes) >= 0;
  }

  /** Add `n` holders to the chunk holding `bytes` (a chunk or a slice of one). */
  retain(bytes: Uint8Array, n = 1): void {
    const slot = this.#slotOf(bytes);
    if (slot < 0 || (this.#holders[slot] ?? 0) < 1) throw new Error('ChunkPool.retain of a chunk not taken');
    this.#holders[slot] = (this.#holders[slot] ?? 0) + n;
  }

  /** One holder of the chunk at byte `offset` of `memory` is done with it. */
  releaseAt(offset: number): void {
    const slot = Math.floor(offset / this.chunkBytes);
    const left = (this.#holders[slot] ?? 0) - 1;
    if (left < 0) throw new Error('ChunkPool.release of a free chunk');
    this.#holders[slot] = left;
    if (left > 0) return;
    this.#free.push(slot);
    this.#waiters.shift()?.();
  }

  /** One holder of the chunk holding `bytes` is done with it; bytes from elsewhere are ignored. */
  release(bytes: Uint8Array): void {
    if (bytes.buffer === this.memory) this.releaseAt(bytes.byteOffset);
  }

  /**
   * A consumer that holds chunks cannot go on (a hashing worker died): its chunks will never come
   * back, so every waiting and later `take` throws `err` instead of waiting forever.
   */
  fail(err: Error): void {
    this.#failure ??= err;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Chunks currently free (tests). */
  get freeCount(): number {
    return this.#free.length;
  }

  #slotOf(bytes: Uint8Array): number {
    if (bytes.buffer !== this.memory) return -1;
    const slot = Math.floor(bytes.byteOffset / this.chunkBytes);
    const end = bytes.byteOffset + bytes.byteLength;
    return end <= (slot + 1) * this.chunkBytes ? slot : -1;
  }
}
