// SHA-256 and SHA-512 of one byte stream, computed together. Small streams are hashed inline;
// past a threshold the two digests run on two worker threads reading a shared ring buffer, so
// BagIt's two manifests cost about one hash of wall time on a multi-core machine.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface Digests {
  readonly sha256: Buffer;
  readonly sha512: Buffer;
  readonly size: number;
}

export interface DualDigest {
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<Digests>;
}

const SLOT_BYTES = 1024 * 1024;
const SLOTS = 8;
/** Below this many bytes the worker hand-off costs more than it saves. */
export const PARALLEL_THRESHOLD = 8 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const view = Buffer.from(workerData.sab);
let hash = createHash(workerData.algorithm);
parentPort.on('message', (m) => {
  if (m.op === 'final') {
    const digest = hash.digest();
    hash = createHash(workerData.algorithm);
    parentPort.postMessage({ op: 'digest', digest });
    return;
  }
  hash.update(view.subarray(m.off, m.off + m.len));
  parentPort.postMessage({ op: 'ack', slot: m.slot });
});
`;

interface HashWorker {
  readonly worker: Worker;
  onMessage: (m: { op: 'ack'; slot: number } | { op: 'digest'; digest: Uint8Array }) => void;
}

/** Two hashing workers over one shared ring; reused across streams, unref'd while idle. */
class WorkerPair {
  readonly view: Buffer;
  readonly #workers: HashWorker[];
  #failure: Error | undefined;

  constructor() {
    const sab = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
    this.view = Buffer.from(sab);
    this.#workers = (['sha256', 'sha512'] as const).map((algorithm) => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab, algorithm } });
      const hw: HashWorker = { worker, onMessage: () => undefined };
      worker.on('message', (m: Parameters<HashWorker['onMessage']>[0]) => {
        hw.onMessage(m);
      });
      worker.on('error', (err: Error) => {
        this.#failure = err;
      });
      worker.unref();
      return hw;
    });
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  get workers(): readonly HashWorker[] {
    return this.#workers;
  }

  ref(): void {
    for (const w of this.#workers) w.worker.ref();
  }

  unref(): void {
    for (const w of this.#workers) w.worker.unref();
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}

const idle: WorkerPair[] = [];

/** Stop idle hashing workers (tests and shutdown). */
export async function closeDigestWorkers(): Promise<void> {
  const pairs = idle.splice(0);
  await Promise.all(pairs.map((p) => p.terminate()));
}

class ParallelSession {
  readonly #pair: WorkerPair;
  readonly #free: number[] = [];
  readonly #acks = new Map<number, number>();
  #waiters: (() => void)[] = [];
  #size = 0;

  constructor(pair: WorkerPair) {
    this.#pair = pair;
    for (let i = 0; i < SLOTS; i++) this.#free.push(i);
    pair.ref();
    for (const w of pair.workers) {
      w.onMessage = (m) => {
        if (m.op !== 'ack') return;
        const left = (this.#acks.get(m.slot) ?? 1) - 1;
        if (left > 0) {
          this.#acks.set(m.slot, left);
          return;
        }
        this.#acks.delete(m.slot);
        this.#free.push(m.slot);
        this.#waiters.shift()?.();
      };
    }
  }

  async #slot(): Promise<number> {
    for (;;) {
      const failure = this.#pair.failure;
      if (failure !== undefined) throw failure;
      const slot = this.#free.pop();
      if (slot !== undefined) return slot;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async update(chunk: Uint8Array): Promise<void> {
    for (let off = 0; off < chunk.length; off += SLOT_BYTES) {
      const piece = chunk.subarray(off, off + SLOT_BYTES);
      const slot = await this.#slot();
      const at = slot * SLOT_BYTES;
      this.#pair.view.set(piece, at);
      this.#acks.set(slot, 2);
      for (const w of this.#pair.workers)
        w.worker.postMessage({ op: 'update', slot, off: at, len: piece.length });
    }
    this.#size += chunk.length;
  }

  async digest(): Promise<Digests> {
    const results = await Promise.all(
      this.#pair.workers.map(
        (w) =>
          new Promise<Buffer>((resolve) => {
            const prior = w.onMessage;
            w.onMessage = (m) => {
              if (m.op === 'digest') resolve(Buffer.from(m.digest));
              else prior(m);
            };
            w.worker.postMessage({ op: 'final' });
          }),
      ),
    );
    this.#pair.unref();
    if (this.#pair.failure === undefined && idle.length < 2) idle.push(this.#pair);
    else void this.#pair.terminate();
    const [sha256 = Buffer.alloc(0), sha512 = Buffer.alloc(0)] = results;
    return { sha256, sha512, size: this.#size };
  }
}

class AdaptiveDigest implements DualDigest {
  readonly #threshold: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #parallel: ParallelSession | undefined;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  async update(chunk: Uint8Array): Promise<void> {
    if (this.#parallel !== undefined) {
      await this.#parallel.update(chunk);
      return;
    }
    this.#held.push(Buffer.from(chunk));
    this.#heldBytes += chunk.length;
    if (this.#heldBytes > this.#threshold) {
      this.#parallel = new ParallelSession(idle.pop() ?? new WorkerPair());
      const held = this.#held;
      this.#held = [];
      for (const h of held) await this.#parallel.update(h);
    }
  }

  async digest(): Promise<Digests> {
    if (this.#parallel !== undefined) return this.#parallel.digest();
    const a = createHash('sha256');
    const b = createHash('sha512');
    for (const h of this.#held) {
      a.update(h);
      b.update(h);
    }
    return Promise.resolve({ sha256: a.digest(), sha512: b.digest(), size: this.#heldBytes });
  }
}

/** A SHA-256 + SHA-512 digest that moves to worker threads once the stream passes `threshold` bytes. */
export function createDualDigest(threshold = PARALLEL_THRESHOLD): DualDigest {
  return new AdaptiveDigest(threshold);
}
