// Group commit: concurrent submissions are collected for at most `maxWaitMs` or `maxBatchSize` items
// and committed together (one transaction, one fsync). Each submission's promise settles only after
// its batch's commit did. Up to `concurrency` batches may be in flight, but a further one starts
// only full, so pipelining never shrinks batches; a finished batch lets the next go at once.
export interface GroupCommitOptions<I, R> {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  /** Batches in flight at once (default 1). The commit function keeps their order. */
  readonly concurrency?: number;
  /** Commit a batch durably; resolves with one result per item, in order. */
  readonly commit: (items: readonly I[]) => Promise<readonly R[]>;
}

interface Pending<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit<I, R> {
  readonly #options: GroupCommitOptions<I, R>;
  readonly #concurrency: number;
  #queue: Pending<I, R>[] = [];
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: GroupCommitOptions<I, R>) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Number of submissions not yet handed to a commit. */
  get waiting(): number {
    return this.#queue.length;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once everything submitted so far has been committed or rejected. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#running.size > 0) {
      if (this.#queue.length > 0 && this.#running.size < this.#concurrency) this.#start();
      await Promise.race(this.#running);
    }
  }

  #schedule(): void {
    const full = this.#queue.length >= this.#options.maxBatchSize;
    if (this.#running.size === 0) {
      if (full || this.#options.maxWaitMs === 0) this.#start();
      else
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.#start();
        }, this.#options.maxWaitMs);
    } else if (full && this.#running.size < this.#concurrency) {
      this.#start();
    }
  }

  #start(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queue.length === 0 || this.#running.size >= this.#concurrency) return;
    const batch = this.#queue.splice(0, this.#options.maxBatchSize);
    const run: Promise<void> = this.#commit(batch).finally(() => {
      this.#running.delete(run);
      // Whatever arrived during the commit has already waited at least that long: go at once.
      if (this.#queue.length > 0) this.#start();
    });
    this.#running.add(run);
  }

  async #commit(batch: readonly Pending<I, R>[]): Promise<void> {
    try {
      const results = await this.#options.commit(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.resolve(results[i] as R);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
