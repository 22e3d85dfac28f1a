// A pull reader over an async byte stream: exact reads for headers, bounded slices for bodies.
// Slices share memory with the source chunks; callers copy what they keep.

const EMPTY = Buffer.alloc(0);

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Buffer = EMPTY;
  #done = false;
  /** Bytes handed out so far (the offset of the next byte). */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0) {
      if (this.#done) return false;
      const next = await this.#it.next();
      if (next.done === true) {
        this.#done = true;
        return false;
      }
      this.#buf = toBuffer(next.value);
    }
    return true;
  }

  /** Up to `max` bytes (at least one unless at EOF, then an empty buffer). */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.#fill())) return EMPTY;
    const n = Math.min(max, this.#buf.length);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.position += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer if the stream ends first (the caller decides if that is an error). */
  async readExact(n: number): Promise<Buffer> {
    const first = await this.readSome(n);
    if (first.length === n || first.length === 0) return first;
    const parts = [first];
    let got = first.length;
    while (got < n) {
      const more = await this.readSome(n - got);
      if (more.length === 0) break;
      parts.push(more);
      got += more.length;
    }
    return Buffer.concat(parts, got);
  }

  /**
   * Bytes up to and including the next LF. Resolves to undefined when the stream ends first or
   * the line would exceed `max` bytes (the caller reports which rule it broke).
   */
  async readLine(max: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let got = 0;
    for (;;) {
      if (!(await this.#fill())) return undefined;
      const nl = this.#buf.indexOf(0x0a);
      const take = nl >= 0 ? nl + 1 : this.#buf.length;
      if (got + take > max) return undefined;
      parts.push(this.#buf.subarray(0, take));
      got += take;
      this.#buf = this.#buf.subarray(take);
      this.position += take;
      if (nl >= 0) return Buffer.concat(parts, got);
    }
  }

  /** Release the source (stops a file read stream early). */
  async cancel(): Promise<void> {
    this.#buf = EMPTY;
    if (!this.#done) {
      this.#done = true;
      await this.#it.return?.();
    }
  }
}

/** An async stream of one buffer, in slices of at most `slice` bytes. */
export async function* bytesSource(data: Uint8Array, slice = 1024 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += slice) yield await Promise.resolve(data.subarray(i, i + slice));
}
