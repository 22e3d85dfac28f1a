// The main-thread side of the SQLite writer thread (sqlite-writer-worker.ts): registers each ledger
// with its signing key once, posts batches of encoded entries in order, and resolves each with the
// index of its first entry (and the checkpoint signed with it) once the thread committed it.
import { Worker } from 'node:worker_threads';
import type { OpenRequest, WriteReply, WriteRequest } from './sqlite-writer-worker.ts';
import type { WriteResult } from './ledger-writer.ts';
import { hashLeaf, HASH_SIZE } from './hash.ts';

interface Waiting {
  resolve: (result: WriteResult) => void;
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
      else
        w.resolve(
          reply.checkpoint === undefined
            ? { first: reply.first }
            : { first: reply.first, checkpoint: reply.checkpoint },
        );
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

  /** Register a ledger with the thread (its signing key seed is copied over, then zeroed here). */
  open(
    ledgerId: string,
    origin: string,
    keyName: string,
    seed: Uint8Array,
    checkpointEveryEntries: number,
  ): void {
    const copy = new Uint8Array(seed);
    seed.fill(0);
    const request: OpenRequest = {
      type: 'open',
      ledgerId,
      origin,
      keyName,
      seed: copy,
      checkpointEveryEntries,
    };
    this.#worker.postMessage(request, [copy.buffer]);
  }

  /**
   * Post a batch (synchronously, so posts keep their order). Resolves with the index of its first
   * entry and the checkpoint signed with it, once durable.
   */
  write(ledgerId: string, entries: readonly Uint8Array[], force: boolean): Promise<WriteResult> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    let total = 0;
    for (const e of entries) total += e.length;
    const data = new Uint8Array(total);
    const lengths = new Uint32Array(entries.length);
    // Leaf hashes are computed here, where there is time to spare while the writer thread commits
    // the batch before; the writer thread still builds the tree above them.
    const leafHashes = new Uint8Array(entries.length * HASH_SIZE);
    let at = 0;
    entries.forEach((e, i) => {
      data.set(e, at);
      lengths[i] = e.length;
      leafHashes.set(hashLeaf(e), i * HASH_SIZE);
      at += e.length;
    });
    const request: WriteRequest = {
      type: 'write',
      id: this.#next++,
      ledgerId,
      data,
      lengths,
      leafHashes,
      force,
    };
    return new Promise((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      this.#worker.postMessage(request, [data.buffer, lengths.buffer, leafHashes.buffer]);
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
