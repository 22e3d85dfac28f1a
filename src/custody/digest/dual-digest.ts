// SHA-256 and SHA-512 of one byte stream, computed together. Small streams are hashed inline;
// past a threshold the digests move to worker threads reading a shared ring buffer, so BagIt's
// two manifests cost about one hash of wall time on a multi-core machine.
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ChunkPool } from '../io/chunk-pool.ts';

export interface Digests {
  readonly sha256: Buffer;
  readonly sha512: Buffer;
  readonly size: number;
}

export interface DualDigest {
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<Digests>;
  /**
   * Give up on the stream (its producer failed): its hashing workers, if any, are stopped rather
   * than kept alive or reused half-way through a hash. Does nothing after `digest()`.
   */
  abandon(): void;
}

/**
 * Which digests leave the calling thread once the stream is large. `both` suits a caller that is
 * busy producing the bytes (the export's encoder); `sha512` suits a caller with little else to do
 * (the verifier's reader): it hashes SHA-256 itself while one worker runs SHA-512, the slower of the
 * two, so a two-core machine runs two hashing threads rather than three.
 */
export type Offload = 'both' | 'sha512';

export interface DualDigestOptions {
  /** Below this many bytes the worker hand-off costs more than it saves. */
  readonly threshold?: number;
  readonly offload?: Offload;
  /**
   * Where the caller's chunks come from: chunks of this pool are hashed in place (each is retained
   * until every worker has read it), anything else is copied into the workers' own ring.
   */
  readonly pool?: ChunkPool;
}

const SLOT_BYTES = 1024 * 1024;
const SLOTS = 8;
export const PARALLEL_THRESHOLD = 8 * 1024 * 1024;

type Algorithm = 'sha256' | 'sha512';

const OFFLOADED: Readonly<Record<Offload, readonly Algorithm[]>> = {
  both: ['sha256', 'sha512'],
  sha512: ['sha512'],
};

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const rings = new Map([[0, Buffer.from(workerData.memory)]]);
let hash = createHash(workerData.algorithm);
parentPort.on('message', (m) => {
  switch (m.op) {
    case 'update':
      hash.update(rings.get(m.ring).subarray(m.off, m.off + m.len));
      parentPort.postMessage({ op: 'ack', ring: m.ring, off: m.off });
      return;
    case 'map':
      rings.set(m.ring, Buffer.from(m.memory));
      return;
    case 'unmap':
      rings.delete(m.ring);
      return;
    case 'final': {
      const digest = hash.digest();
      hash = createHash(workerData.algorithm);
      parentPort.postMessage({ op: 'digest', digest });
    }
  }
});
`;

type WorkerMessage = { op: 'ack'; ring: number; off: number } | { op: 'digest'; digest: Uint8Array };

interface HashWorker {
  readonly algorithm: Algorithm;
  readonly worker: Worker;
  onMessage: (m: WorkerMessage) => void;
}

/** Hashing workers with their own chunk ring (ring 0); reused across streams, unref'd while idle. */
class WorkerSet {
  readonly offload: Offload;
  /** Where bytes that are not already in a mapped ring are copied for the workers. */
  readonly pool = new ChunkPool(SLOTS, SLOT_BYTES);
  readonly #workers: HashWorker[];
  #failure: Error | undefined;
  /** Told when a worker fails, so the stream using the set stops waiting on it. */
  onFailure: (err: Error) => void = () => undefined;

  constructor(offload: Offload) {
    this.offload = offload;
    const memory = this.pool.memory;
    this.#workers = OFFLOADED[offload].map((algorithm) => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, algorithm } });
      const hw: HashWorker = { algorithm, worker, onMessage: () => undefined };
      worker.on('message', (m: WorkerMessage) => {
        hw.onMessage(m);
      });
      worker.on('error', (err: Error) => {
        this.#failure = err;
        this.onFailure(err);
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

const MAX_IDLE = 2;
const idle: WorkerSet[] = [];

function takeWorkers(offload: Offload): WorkerSet {
  // A set whose worker failed while idle is never handed out again.
  for (const failed of idle.filter((s) => s.failure !== undefined)) {
    idle.splice(idle.indexOf(failed), 1);
    void failed.terminate();
  }
  const i = idle.findIndex((s) => s.offload === offload);
  if (i < 0) return new WorkerSet(offload);
  const [set] = idle.splice(i, 1);
  return set ?? new WorkerSet(offload);
}

function releaseWorkers(set: WorkerSet): void {
  set.unref();
  if (set.failure === undefined && idle.length < MAX_IDLE) idle.push(set);
  else void set.terminate();
}

/** Stop idle hashing workers (tests and shutdown). */
export async function closeDigestWorkers(): Promise<void> {
  const sets = idle.splice(0);
  await Promise.all(sets.map((s) => s.terminate()));
}

/** Ring ids of pools mapped into workers for one stream; ring 0 is each worker set's own. */
let nextRing = 1;

class ParallelSession {
  readonly #set: WorkerSet;
  /** The digests not offloaded, computed on the calling thread. */
  readonly #local: Map<Algorithm, Hash>;
  /** Every ring the workers read for this stream, by id. */
  readonly #rings = new Map<number, ChunkPool>();
  /** Rejections of digests awaited from the workers, called if a worker fails first. */
  readonly #pendingDigests: ((err: Error) => void)[] = [];
  /** The caller's pool, once mapped: its chunks are hashed where they are. */
  #external: { readonly pool: ChunkPool; readonly ring: number } | undefined;
  #size = 0;
  /** Digested or abandoned: the workers are no longer this stream's. */
  #ended = false;

  constructor(set: WorkerSet, local: Map<Algorithm, Hash>) {
    this.#set = set;
    this.#local = local;
    this.#rings.set(0, set.pool);
    set.ref();
    // A dead worker never acknowledges what it held: fail every ring, so no producer waits forever.
    set.onFailure = (err) => {
      for (const pool of this.#rings.values()) pool.fail(err);
      for (const reject of this.#pendingDigests.splice(0)) reject(err);
    };
    for (const w of set.workers) {
      w.onMessage = (m) => {
        if (m.op === 'ack') this.#rings.get(m.ring)?.releaseAt(m.off);
      };
    }
  }

  /** The ring id under which the workers read `pool`, mapping it on first use. */
  #ringOf(pool: ChunkPool): number {
    if (this.#external?.pool === pool) return this.#external.ring;
    if (this.#external !== undefined) this.#unmap();
    const ring = nextRing++;
    this.#external = { pool, ring };
    this.#rings.set(ring, pool);
    for (const w of this.#set.workers) w.worker.postMessage({ op: 'map', ring, memory: pool.memory });
    return ring;
  }

  #unmap(): void {
    if (this.#external === undefined) return;
    const { ring } = this.#external;
    for (const w of this.#set.workers) w.worker.postMessage({ op: 'unmap', ring });
    this.#external = undefined;
  }

  #post(ring: number, pool: ChunkPool, piece: Uint8Array): void {
    const failure = this.#set.failure;
    if (failure !== undefined) throw failure;
    const workers = this.#set.workers;
    pool.retain(piece, workers.length);
    const off = piece.byteOffset;
    for (const w of workers) w.worker.postMessage({ op: 'update', ring, off, len: piece.length });
    // While the workers hash these bytes, this thread hashes them for the digests it kept.
    for (const h of this.#local.values()) h.update(piece);
  }

  async update(chunk: Uint8Array, from: ChunkPool | undefined): Promise<void> {
    if (from?.owns(chunk) === true) {
      this.#post(this.#ringOf(from), from, chunk);
    } else {
      const own = this.#set.pool;
      for (let off = 0; off < chunk.length; off += SLOT_BYTES) {
        const piece = chunk.subarray(off, off + SLOT_BYTES);
        const slot = await own.take();
        slot.set(piece);
        this.#post(0, own, slot.subarray(0, piece.length));
        own.release(slot);
      }
    }
    this.#size += chunk.length;
  }

  async digest(): Promise<Digests> {
    try {
      return await this.#digest();
    } catch (err) {
      this.abandon();
      throw err;
    }
  }

  async #digest(): Promise<Digests> {
    const results = new Map<Algorithm, Buffer>();
    const failure = this.#set.failure;
    if (failure !== undefined) throw failure;
    await Promise.all(
      this.#set.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            this.#pendingDigests.push(reject);
            const prior = w.onMessage;
            w.onMessage = (m) => {
              if (m.op !== 'digest') {
                prior(m);
                return;
              }
              results.set(w.algorithm, Buffer.from(m.digest));
              resolve();
            };
            w.worker.postMessage({ op: 'final' });
          }),
      ),
    ).finally(() => {
      this.#pendingDigests.length = 0;
    });
    this.#ended = true;
    this.#set.onFailure = () => undefined;
    this.#unmap();
    releaseWorkers(this.#set);
    for (const [algorithm, h] of this.#local) results.set(algorithm, h.digest());
    return {
      sha256: results.get('sha256') ?? Buffer.alloc(0),
      sha512: results.get('sha512') ?? Buffer.alloc(0),
      size: this.#size,
    };
  }

  /** Stop this stream's workers: they hold a partial hash, so they are never reused. */
  abandon(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#set.onFailure = () => undefined;
    // Chunks the workers held never come back: a producer still taking from a ring stops too.
    for (const pool of this.#rings.values()) pool.fail(new Error('The digest stream was abandoned'));
    this.#set.unref();
    void this.#set.terminate();
  }
}

class AdaptiveDigest implements DualDigest {
  readonly #threshold: number;
  readonly #offload: Offload;
  readonly #pool: ChunkPool | undefined;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #parallel: ParallelSession | undefined;

  constructor(threshold: number, offload: Offload, pool: ChunkPool | undefined) {
    this.#threshold = threshold;
    this.#offload = offload;
    this.#pool = pool;
  }

  async update(chunk: Uint8Array): Promise<void> {
    if (this.#parallel !== undefined) {
      await this.#parallel.update(chunk, this.#pool);
      return;
    }
    this.#held.push(Buffer.from(chunk));
    this.#heldBytes += chunk.length;
    if (this.#heldBytes > this.#threshold) {
      const local = new Map<Algorithm, Hash>();
      for (const algorithm of ['sha256', 'sha512'] as const)
        if (!OFFLOADED[this.#offload].includes(algorithm)) local.set(algorithm, createHash(algorithm));
      this.#parallel = new ParallelSession(takeWorkers(this.#offload), local);
      const held = this.#held;
      this.#held = [];
      for (const h of held) await this.#parallel.update(h, undefined);
    }
  }

  abandon(): void {
    this.#parallel?.abandon();
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

/**
 * A SHA-256 + SHA-512 digest that moves to worker threads once the stream passes `threshold`
 * bytes. Throws (from update) only if a hashing worker fails.
 */
export function createDualDigest(options: DualDigestOptions = {}): DualDigest {
  return new AdaptiveDigest(options.threshold ?? PARALLEL_THRESHOLD, options.offload ?? 'both', options.pool);
}
