// The main-thread side of the SQLite writer thread (sqlite-writer-worker.ts): posts each batch the
// sequencer planned and resolves once the thread committed it, or reports the stored size when
// the batch was planned on a stale one (another process wrote; nothing was written).
import { Worker } from 'node:worker_threads';
import { nowIso } from '../store/index.ts';
import type { WriteReply, WriteRequest } from './sqlite-writer-worker.ts';
import type { CompletedTile } from './tile-state.ts';

interface Waiting {
  resolve: (storedSize: number | undefined) => void;
  reject: (err: Error) => void;
}

export class SqliteWriterThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #next = 0;
  #failed: Error | undefined;

  constructor(file: string) {
    this.#worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), {
      workerData: { file },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: WriteReply) => {
      const w = this.#waiting.get(reply.id);
      if (w === undefined) return;
      this.#waiting.delete(reply.id);
      if ('error' in reply) w.reject(new Error(reply.error));
      else w.resolve(reply.ok ? undefined : reply.size);
    });
    this.#worker.on('error', (err: unknown) => {
      this.#fail(err instanceof Error ? err : new Error('ledger writer thread failed'));
    });
    this.#worker.on('exit', () => {
      this.#fail(new Error('ledger writer thread exited'));
    });
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  /**
   * Post a batch sequenced on stored size `first` (synchronously, so posts keep their order).
   * Resolves undefined once durable, or the stored size when it was not `first`.
   */
  write(
    ledgerId: string,
    first: number,
    entries: readonly Uint8Array[],
    leafHashes: readonly Uint8Array[],
    tiles: readonly CompletedTile[],
    checkpoint?: { size: number; note: string },
  ): Promise<number | undefined> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    let total = 0;
    for (const e of entries) total += e.length;
    const data = new Uint8Array(total);
    const lengths = new Uint32Array(entries.length);
    const hashes = new Uint8Array(entries.length * 32);
    let at = 0;
    entries.forEach((e, i) => {
      data.set(e, at);
      lengths[i] = e.length;
      at += e.length;
      const h = leafHashes[i];
      if (h !== undefined) hashes.set(h, i * 32);
    });
    const request: WriteRequest = {
      id: this.#next++,
      ledgerId,
      first,
      data,
      lengths,
      hashes,
      // Copied: a hash may be a view of a pooled buffer, which postMessage would clone whole.
      tiles: tiles.map((t) => ({ level: t.level, index: t.index, hash: new Uint8Array(t.hash) })),
      ...(checkpoint === undefined ? {} : { checkpoint: { ...checkpoint, createdAt: nowIso() } }),
    };
    return new Promise((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      this.#worker.postMessage(request, [data.buffer, lengths.buffer, hashes.buffer]);
    });
  }

  /** Let queued batches finish, then stop the thread. */
  async close(): Promise<void> {
    if (this.#failed !== undefined) return;
    // Keep the process alive until the thread has committed what it holds and closed its connection.
    this.#worker.ref();
    const exited = new Promise<void>((resolve) => {
      this.#worker.once('exit', () => {
        resolve();
      });
    });
    this.#worker.postMessage('close');
    await exited;
  }
}
