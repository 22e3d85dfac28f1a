// How a batch of entries becomes durable. PostgreSQL (and an in-memory SQLite) sequence the batch
// inside the locked transaction (write-tx.ts). With an SQLite file this thread sequences ahead on
// its in-memory right edge and a writer thread (sqlite-writer.ts) commits under BEGIN IMMEDIATE
// on its own connection after checking the stored size, so the fsync never blocks this thread.
import { CustosError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import type { SealingKeyProvider } from './ledger-key.ts';
import { openLedgerSeed } from './ledger-key.ts';
import type { LedgerRecord, LedgerStore } from './ledger-store.ts';
import { ed25519Signer } from './note.ts';
import { Sequencer, type LockedView } from './sequencer.ts';
import { SqliteWriterThread } from './sqlite-writer.ts';
import { withWriteTx } from './write-tx.ts';

export interface WriteResult {
  /** Index of the batch's first entry. */
  readonly first: number;
  /** The checkpoint signed with the batch, when one was due. */
  readonly checkpoint?: { readonly size: number; readonly note: string };
}

export interface LedgerWriter {
  /** Batches one ledger may have in flight: the next is prepared while the previous commits. */
  readonly concurrency: number;
  /**
   * Sequence and durably write `entries` (with their leaf hashes when the caller has them).
   * Throws LEDGER_APPEND_FAILED, LEDGER_KEY_MISMATCH.
   */
  append(
    ledger: LedgerRecord,
    entries: readonly Buffer[],
    leafHashes?: readonly Buffer[],
  ): Promise<WriteResult>;
  /** Sign a checkpoint over entries no checkpoint covers yet; undefined when there are none. */
  checkpoint(ledger: LedgerRecord): Promise<WriteResult['checkpoint']>;
  close(): Promise<void>;
}

interface WriterContext {
  readonly store: Store;
  readonly root: SealingKeyProvider;
  readonly checkpointEveryEntries: number;
}

/** One sequencer per ledger, built on first use from the ledger's unsealed key. */
class Sequencers {
  readonly #ctx: WriterContext;
  readonly #byLedger = new Map<string, Promise<Sequencer>>();

  constructor(ctx: WriterContext) {
    this.#ctx = ctx;
  }

  get(l: LedgerRecord): Promise<Sequencer> {
    let s = this.#byLedger.get(l.id);
    if (s === undefined) {
      s = openLedgerSeed(this.#ctx.root, l.id, l.keyName, l.publicKey, l.sealedSeed).then((seed) => {
        try {
          return new Sequencer(l.origin, ed25519Signer(l.keyName, seed), this.#ctx.checkpointEveryEntries);
        } finally {
          seed.fill(0);
        }
      });
      s.catch(() => this.#byLedger.delete(l.id));
      this.#byLedger.set(l.id, s);
    }
    return s;
  }
}

class InProcessWriter implements LedgerWriter {
  // A second batch queues on the advisory lock while the first commits, then runs at once.
  readonly concurrency: number;
  readonly #ctx: WriterContext;
  readonly #sequencers: Sequencers;

  constructor(ctx: WriterContext) {
    this.#ctx = ctx;
    this.#sequencers = new Sequencers(ctx);
    this.concurrency = ctx.store.dialect === 'postgres' ? 2 : 1;
  }

  async #write(
    l: LedgerRecord,
    entries: readonly Buffer[],
    leafHashes: readonly Buffer[] | undefined,
    force: boolean,
  ): Promise<WriteResult> {
    const sequencer = await this.#sequencers.get(l);
    try {
      return await withWriteTx(this.#ctx.store, l.id, async (tx) => {
        const b = await sequencer.sequence(tx, entries, leafHashes, force);
        const rows = entries.map((entry, i) => ({ entry, leafHash: b.leafHashes[i] ?? Buffer.alloc(0) }));
        const cp =
          b.checkpoint === undefined ? undefined : { size: b.checkpoint.size, note: b.checkpoint.note };
        await tx.insert(b.first, rows, b.tiles, cp);
        return cp === undefined ? { first: b.first } : { first: b.first, checkpoint: cp };
      });
    } catch (err) {
      sequencer.reset();
      throw err;
    }
  }

  append(l: LedgerRecord, entries: readonly Buffer[], leafHashes?: readonly Buffer[]): Promise<WriteResult> {
    return this.#write(l, entries, leafHashes, false);
  }

  async checkpoint(l: LedgerRecord): Promise<WriteResult['checkpoint']> {
    return (await this.#write(l, [], [], true)).checkpoint;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const MAX_ATTEMPTS = 20;

class ThreadWriter implements LedgerWriter {
  // The thread queues up to two batches behind the one it is committing, so it does not wait for
  // this thread while the resolved appenders submit again; leaves are hashed as events arrive,
  // inner nodes when the batch is sequenced here.
  readonly concurrency = 3;
  readonly #ledgers: LedgerStore;
  readonly #thread: SqliteWriterThread;
  readonly #sequencers: Sequencers;
  readonly #planning = new Map<string, Promise<unknown>>();

  constructor(ctx: WriterContext, ledgers: LedgerStore, file: string) {
    this.#ledgers = ledgers;
    this.#thread = new SqliteWriterThread(file);
    this.#sequencers = new Sequencers(ctx);
  }

  /** Sequencing and posting run one at a time per ledger, so the thread receives batches in order. */
  #serially<T>(ledgerId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#planning.get(ledgerId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    this.#planning.set(
      ledgerId,
      run.catch(() => undefined),
    );
    return run;
  }

  #view(ledgerId: string, size: number): LockedView {
    const store = this.#ledgers;
    return {
      size,
      read: (level, from, to) =>
        level === 0 ? store.leafHashes(ledgerId, from, to) : store.tileHashes(ledgerId, level, from, to),
      latestCheckpointSize: async () => (await store.latestCheckpoint(ledgerId))?.size,
    };
  }

  async #write(
    l: LedgerRecord,
    entries: readonly Buffer[],
    leafHashes: readonly Buffer[] | undefined,
    force: boolean,
  ): Promise<WriteResult> {
    const sequencer = await this.#sequencers.get(l);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Sequenced on the right edge in memory, which already includes batches still in flight;
      // the thread checks the stored size, and a stale plan is refused and sequenced again.
      const planned = await this.#serially(l.id, async () => {
        const size = (attempt === 0 ? sequencer.size : undefined) ?? (await this.#ledgers.size(l.id));
        const b = await sequencer.sequence(this.#view(l.id, size), entries, leafHashes, force);
        if (entries.length === 0 && b.checkpoint === undefined) return { b, written: undefined };
        const cp =
          b.checkpoint === undefined ? undefined : { size: b.checkpoint.size, note: b.checkpoint.note };
        return { b, cp, written: this.#thread.write(l.id, b.first, entries, b.leafHashes, b.tiles, cp) };
      });
      if (planned.written === undefined) return { first: planned.b.first };
      let stored: number | undefined;
      try {
        stored = await planned.written;
      } catch (cause) {
        sequencer.reset();
        throw appendFailed(l.id, cause);
      }
      if (stored === undefined) {
        return planned.cp === undefined
          ? { first: planned.b.first }
          : { first: planned.b.first, checkpoint: planned.cp };
      }
      sequencer.reset();
    }
    throw appendFailed(l.id, new Error('the stored size kept changing under the writer'));
  }

  append(l: LedgerRecord, entries: readonly Buffer[], leafHashes?: readonly Buffer[]): Promise<WriteResult> {
    return this.#write(l, entries, leafHashes, false);
  }

  async checkpoint(l: LedgerRecord): Promise<WriteResult['checkpoint']> {
    return (await this.#write(l, [], [], true)).checkpoint;
  }

  close(): Promise<void> {
    return this.#thread.close();
  }
}

function appendFailed(ledgerId: string, cause: unknown): CustosError {
  if (cause instanceof CustosError) return cause;
  return new CustosError('LEDGER_APPEND_FAILED', 'The ledger write was not committed', {
    cause,
    details: { field: 'ledger', rule: 'database accepts the append', ledger: ledgerId },
  });
}

/** The writer for a store: the writer thread for an SQLite file, in-process otherwise. */
export function ledgerWriter(ctx: WriterContext, ledgers: LedgerStore): LedgerWriter {
  const file = ctx.store.sqlite?.raw.location() ?? null;
  return file === null || file === '' ? new InProcessWriter(ctx) : new ThreadWriter(ctx, ledgers, file);
}
