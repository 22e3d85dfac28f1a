// Runs rewrap crypto jobs on a few worker threads (or inline when there are none), round-robin, so
// unwrap/wrap of one batch overlaps the store reads and writes of the next. A batch lives in shared memory:
// while the main thread waits for one, it claims and does the chunks no worker has started yet.
import { Worker } from 'node:worker_threads';
import { CustosError, type ErrorCode, type ErrorDetails } from '../errors/index.ts';
import {
  rewrapClaimed,
  rewrapJob,
  shareBatch,
  sharedInput,
  sharedOutput,
  type RewrapJob,
  type RewrapOutput,
  type SharedBatch,
} from './rewrap-crypto.ts';

interface Reply {
  readonly seq: number;
  readonly error?: { code: ErrorCode; message: string; details: ErrorDetails };
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** A running job: `help()` does the unclaimed part of it on this thread; `result` settles when all is done. */
export interface RewrapTask {
  help(): void;
  readonly result: Promise<RewrapOutput>;
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

  /** Start one job; inline at once when the pool has no workers. */
  run(job: RewrapJob): RewrapTask {
    if (this.#workers.length === 0) {
      let result: Promise<RewrapOutput>;
      try {
        result = Promise.resolve(rewrapJob(job));
      } catch (err) {
        result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return { help: () => undefined, result };
    }
    const seq = this.#seq++;
    const worker = this.#workers[seq % this.#workers.length];
    const batch: SharedBatch = shareBatch(job.wrapped);
    const local: RewrapJob = { ...job, wrapped: sharedInput(batch) };
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      worker?.postMessage({ seq, job: { ...job, wrapped: [] }, batch });
    });
    // The worker replies once every chunk is claimed and its own are done; chunks this thread claims are
    // done synchronously in help(), before any reply can be handled.
    const result = done.then(() => sharedOutput(batch));
    return {
      help: () => {
        rewrapClaimed(local, batch);
      },
      result,
    };
  }

  #settle(reply: Reply): void {
    const waiter = this.#waiting.get(reply.seq);
    if (!waiter) return;
    this.#waiting.delete(reply.seq);
    if (reply.error) {
      waiter.reject(new CustosError(reply.error.code, reply.error.message, { details: reply.error.details }));
    } else {
      waiter.resolve();
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
