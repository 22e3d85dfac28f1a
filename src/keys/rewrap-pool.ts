// Runs rewrap crypto jobs on a few worker threads (or inline when there are none), round-robin,
// so unwrap/wrap of one batch overlaps the store reads and writes of the next.
import { Worker } from 'node:worker_threads';
import { CustosError, type ErrorCode, type ErrorDetails } from '../errors/index.ts';
import {
  pack,
  rewrapJob,
  unpack,
  type PackedBoxes,
  type RewrapJob,
  type RewrapOutput,
} from './rewrap-crypto.ts';

interface Reply {
  readonly seq: number;
  readonly wrapped?: PackedBoxes;
  readonly versions?: number[];
  readonly error?: { code: ErrorCode; message: string; details: ErrorDetails };
}

interface Waiter {
  resolve(out: RewrapOutput): void;
  reject(err: unknown): void;
}

export class RewrapPool {
  readonly #workers: Worker[] = [];
  readonly #waiting = new Map<number, Waiter>();
  #seq = 0;

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL('./rewrap-worker.ts', import.meta.url));
      w.on('message', (reply: Reply) => {
        this.#settle(reply);
      });
      w.on('error', (err) => {
        this.#failAll(new CustosError('INTERNAL', 'Rewrap worker crashed', { cause: err }));
      });
      this.#workers.push(w);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Run one job; inline when the pool has no workers. */
  run(job: RewrapJob): Promise<RewrapOutput> {
    if (this.#workers.length === 0) {
      try {
        return Promise.resolve(rewrapJob(job));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const seq = this.#seq++;
    const worker = this.#workers[seq % this.#workers.length];
    return new Promise<RewrapOutput>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      // One transferred buffer instead of thousands of small cloned ones.
      const wrapped = pack(job.wrapped);
      worker?.postMessage({ seq, job: { ...job, wrapped: [] }, wrapped }, [
        wrapped.bytes.buffer,
        wrapped.ends.buffer,
      ]);
    });
  }

  #settle(reply: Reply): void {
    const waiter = this.#waiting.get(reply.seq);
    if (!waiter) return;
    this.#waiting.delete(reply.seq);
    if (reply.error) {
      waiter.reject(new CustosError(reply.error.code, reply.error.message, { details: reply.error.details }));
    } else {
      waiter.resolve({
        wrapped: reply.wrapped ? unpack(reply.wrapped) : [],
        versions: reply.versions ?? [],
      });
    }
  }

  #failAll(err: CustosError): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
