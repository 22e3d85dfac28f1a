// The sequencer of one ledger: given the stored size under the write lock, it appends a batch of
// entries to the right edge of the tree (reloading the edge from storage when another writer moved
// it), collects the full tiles the batch completes, and signs a checkpoint when one is due.
// Runs under the write lock (PostgreSQL), or ahead of the SQLite writer thread, which refuses a
// batch sequenced on a stale size.
import { signCheckpoint, type SignedCheckpoint } from './checkpoint.ts';
import { hashLeaf } from './hash.ts';
import type { NoteSigner } from './note.ts';
import { TileState, type CompletedTile, type LevelReader } from './tile-state.ts';

/** What the sequencer reads under the write lock. */
export interface LockedView {
  /** Entries stored (one past the highest index). */
  readonly size: number;
  readonly read: LevelReader;
  latestCheckpointSize(): Promise<number | undefined>;
}

export interface SequencedBatch {
  readonly first: number;
  readonly leafHashes: readonly Buffer[];
  readonly tiles: readonly CompletedTile[];
  readonly checkpoint?: SignedCheckpoint;
}

export class Sequencer {
  readonly #origin: string;
  readonly #signer: NoteSigner;
  readonly #every: number;
  #state: TileState | undefined;
  #checkpointed = -1;

  constructor(origin: string, signer: NoteSigner, checkpointEveryEntries: number) {
    this.#origin = origin;
    this.#signer = signer;
    this.#every = checkpointEveryEntries;
  }

  /** The size the right edge is at (including batches sequenced but not yet written), if loaded. */
  get size(): number | undefined {
    return this.#state?.size;
  }

  /** Forget the right edge (after a rolled-back write); it is reloaded on the next batch. */
  reset(): void {
    this.#state = undefined;
  }

  async #sync(view: LockedView): Promise<TileState> {
    if (this.#state?.size !== view.size) {
      this.#state = await TileState.load(view.size, view.read);
      this.#checkpointed = (await view.latestCheckpointSize()) ?? -1;
    }
    return this.#state;
  }

  #sign(state: TileState): SignedCheckpoint {
    this.#checkpointed = state.size;
    return signCheckpoint(
      { origin: this.#origin, size: state.size, root: state.root(), extensions: [] },
      this.#signer,
    );
  }

  /**
   * Sequence `entries` after the stored ones. `leafHashes` may be given when already computed.
   * With `forceCheckpoint`, signs one whenever entries are not covered yet (an empty batch signs
   * only then). The caller writes the result and calls {@link reset} if that fails.
   */
  async sequence(
    view: LockedView,
    entries: readonly Uint8Array[],
    leafHashes?: readonly Buffer[],
    forceCheckpoint = false,
  ): Promise<SequencedBatch> {
    const state = await this.#sync(view);
    const first = state.size;
    const hashes = leafHashes ?? entries.map((e) => hashLeaf(e));
    const tiles: CompletedTile[] = [];
    for (const h of hashes) {
      const done = state.append(h);
      if (done.length > 0) tiles.push(...done);
    }
    const pending = state.size - Math.max(this.#checkpointed, 0);
    const due = forceCheckpoint ? state.size > this.#checkpointed : pending >= this.#every;
    return due
      ? { first, leafHashes: hashes, tiles, checkpoint: this.#sign(state) }
      : { first, leafHashes: hashes, tiles };
  }
}
