// How a batch of entries becomes durable. PostgreSQL (and an in-memory SQLite) hash and sequence
// the batch inside the locked transaction (write-tx.ts). With an SQLite file a writer thread
// (sqlite-writer.ts) does all of it under BEGIN IMMEDIATE on its own connection: leaf hashes,
// sequencing (inner nodes, tiles), the checkpoint signature, the inserts and the fsync never
// block this thread, which only validates and encodes events.
import { CustosError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import type { SealingKeyProvider } from './ledger-key.ts';
import { openLedgerSeed } from './ledger-key.ts';
import type { LedgerRecord } from './ledger-store.ts';
import { ed25519Signer } from './note.ts';
import { Sequencer } from './sequencer.ts';
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
  /** Hash, sequence and durably write `entries`. Throws LEDGER_APPEND_FAILED, LEDGER_KEY_MISMATCH. */
  append(ledger: LedgerRecord, entries: readonly Buffer[]): Promise<WriteResult>;
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

  async #write(l: LedgerRecord, entries: readonly Buffer[], force: boolean): Promise<WriteResult> {
    const sequencer = await this.#sequencers.get(l);
    try {
      return await withWriteTx(this.#ctx.store, l.id, async (tx) => {
        const b = await sequencer.sequence(tx, entries, undefined, force);
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

  append(l: LedgerRecord, entries: readonly Buffer[]): Promise<WriteResult> {
    return this.#write(l, entries, false);
  }

  async checkpoint(l: LedgerRecord): Promise<WriteResult['checkpoint']> {
    return (await this.#write(l, [], true)).checkpoint;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class ThreadWriter implements LedgerWriter {
  // The thread hashes, sequences, signs and commits; it queues up to two batches behind the one it
  // is committing, so it does not wait for this thread while the resolved appenders submit again.
  readonly concurrency = 3;
  readonly #ctx: WriterContext;
  readonly #thread: SqliteWriterThread;
  readonly #opened = new Map<string, Promise<void>>();

  constructor(ctx: WriterContext, file: string) {
    this.#ctx = ctx;
    this.#thread = new SqliteWriterThread(file);
  }

  /** Hand the ledger's signing key to the thread once (unsealed here, by the root key provider). */
  #open(l: LedgerRecord): Promise<void> {
    let opened = this.#opened.get(l.id);
    if (opened === undefined) {
      opened = openLedgerSeed(this.#ctx.root, l.id, l.keyName, l.publicKey, l.sealedSeed).then((seed) => {
        this.#thread.open(l.id, l.origin, l.keyName, seed, this.#ctx.checkpointEveryEntries);
      });
      opened.catch(() => this.#opened.delete(l.id));
      this.#opened.set(l.id, opened);
    }
    return opened;
  }

  async #write(l: LedgerRecord, entries: readonly Buffer[], force: boolean): Promise<WriteResult> {
    await this.#open(l);
    try {
      return await this.#thread.write(l.id, entries, force);
    } catch (cause) {
      throw appendFailed(l.id, cause);
    }
  }

  append(l: LedgerRecord, entries: readonly Buffer[]): Promise<WriteResult> {
    return this.#write(l, entries, false);
  }

  async checkpoint(l: LedgerRecord): Promise<WriteResult['checkpoint']> {
    return (await this.#write(l, [], true)).checkpoint;
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
export function ledgerWriter(ctx: WriterContext): LedgerWriter {
  const file = ctx.store.sqlite?.raw.location() ?? null;
  return file === null || file === '' ? new InProcessWriter(ctx) : new ThreadWriter(ctx, file);
}
