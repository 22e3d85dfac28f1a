// The sequencer's view of the right edge of a ledger: one compact range per tile level over the
// hashes of its rightmost, still partial tile. Appending a leaf yields the full tiles it completes;
// the root of the whole tree is the right fold of every level's frontier, highest level first.
import { foldRight, CompactRange } from './tree.ts';
import { TILE_WIDTH } from './tiles.ts';

/** A full tile completed by an append: its root is stored as hash `index` of tile level `level`. */
export interface CompletedTile {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/** Reads stored hashes of tile level `level` (0 = leaf hashes) for indexes [from, to). */
export type LevelReader = (level: number, from: number, to: number) => Promise<Buffer[]>;

export class TileState {
  #size: number;
  readonly #levels: CompactRange[] = [];

  private constructor(size: number) {
    this.#size = size;
  }

  /** An empty tree. */
  static empty(): TileState {
    return new TileState(0);
  }

  /** Rebuild the right edge of a tree of `size` from stored hashes (at most 255 per level). */
  static async load(size: number, read: LevelReader): Promise<TileState> {
    const state = new TileState(size);
    for (let level = 0; ; level++) {
      const count = Math.floor(size / TILE_WIDTH ** level);
      if (count === 0) break;
      const start = count - (count % TILE_WIDTH);
      const range = new CompactRange();
      for (const h of await read(level, start, count)) range.push(h);
      state.#levels.push(range);
    }
    return state;
  }

  get size(): number {
    return this.#size;
  }

  /** Append one leaf hash; returns the full tiles it completes (level ≥ 1 hashes to store). */
  append(leafHash: Buffer): CompletedTile[] {
    const done: CompletedTile[] = [];
    this.#size += 1;
    let hash = leafHash;
    for (let level = 0; ; level++) {
      let range = this.#levels[level];
      if (range === undefined) {
        range = new CompactRange();
        this.#levels.push(range);
      }
      range.push(hash);
      if (range.size < TILE_WIDTH) break;
      hash = range.root();
      this.#levels[level] = new CompactRange();
      done.push({ level: level + 1, index: Math.floor(this.#size / TILE_WIDTH ** (level + 1)) - 1, hash });
    }
    return done;
  }

  /** MTH of the whole tree. */
  root(): Buffer {
    const frontier: Buffer[] = [];
    for (let level = this.#levels.length - 1; level >= 0; level--)
      frontier.push(...(this.#levels[level]?.frontier() ?? []));
    return foldRight(frontier);
  }
}
