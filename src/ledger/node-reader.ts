// Hashes of complete subtrees read from stored tiles, for proofs at any size without recomputing
// the tree: node (level, index) lies inside one tile of tile level floor(level / 8). Full tiles are
// immutable, so their eight inner levels are computed once and kept in a small LRU cache.
import { hashChildren } from './hash.ts';
import type { LevelReader } from './tile-state.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './tiles.ts';
import type { NodeId } from './tree.ts';
import { defined } from './must.ts';

/** levels[r][j]: the hash of the j-th complete subtree of 2^r tile hashes. */
type TileLevels = Buffer[][];

function innerLevels(hashes: readonly Buffer[]): TileLevels {
  let below = [...hashes];
  const levels: TileLevels = [below];
  for (let r = 1; r <= TILE_HEIGHT; r++) {
    const row: Buffer[] = [];
    for (let j = 0; j + 1 < below.length; j += 2)
      row.push(hashChildren(defined(below[j], 'left'), defined(below[j + 1], 'right')));
    levels.push(row);
    below = row;
  }
  return levels;
}

export class TileCache {
  readonly #limit: number;
  readonly #full = new Map<string, TileLevels>();

  constructor(limit = 256) {
    this.#limit = limit;
  }

  get(key: string): TileLevels | undefined {
    const hit = this.#full.get(key);
    if (hit !== undefined) {
      this.#full.delete(key);
      this.#full.set(key, hit);
    }
    return hit;
  }

  set(key: string, levels: TileLevels): void {
    if (this.#full.size >= this.#limit) {
      const oldest = this.#full.keys().next().value;
      if (oldest !== undefined) this.#full.delete(oldest);
    }
    this.#full.set(key, levels);
  }
}

/**
 * Read complete subtree hashes of a tree of `size` leaves. Every requested node must be complete
 * within `size`; tiles are read once per call.
 */
export async function readNodes(
  nodes: readonly NodeId[],
  size: number,
  read: LevelReader,
  cache: TileCache,
  cacheKey: string,
): Promise<Buffer[]> {
  const tiles = new Map<string, Promise<TileLevels>>();
  const tileOf = (tileLevel: number, tileIndex: number): Promise<TileLevels> => {
    const key = `${cacheKey}/${tileLevel}/${tileIndex}`;
    let pending = tiles.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const cached = cache.get(key);
        if (cached !== undefined) return cached;
        const count = Math.floor(size / TILE_WIDTH ** tileLevel);
        const start = tileIndex * TILE_WIDTH;
        const width = Math.min(TILE_WIDTH, count - start);
        const levels = innerLevels(await read(tileLevel, start, start + width));
        if (width === TILE_WIDTH) cache.set(key, levels);
        return levels;
      })();
      tiles.set(key, pending);
    }
    return pending;
  };
  return Promise.all(
    nodes.map(async ({ level, index }) => {
      const tileLevel = Math.floor(level / TILE_HEIGHT);
      const r = level % TILE_HEIGHT;
      const first = index * 2 ** r;
      const tileIndex = Math.floor(first / TILE_WIDTH);
      const levels = await tileOf(tileLevel, tileIndex);
      const hash = levels[r]?.[(first % TILE_WIDTH) / 2 ** r];
      if (hash === undefined)
        throw new RangeError(`node ${level}/${index} is not complete in a tree of ${size}`);
      return hash;
    }),
  );
}
