// Merkle tree arithmetic on leaf indexes and a compact range: the right edge of a growing tree,
// from which the root of any prefix and the hash of every completed subtree follow.
import { EMPTY_ROOT, hashChildren } from './hash.ts';
import { defined } from './must.ts';

/** Largest power of two strictly below `n` (n ≥ 2): the split point `k` of RFC 6962 §2.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** True when `n` is 1, 2, 4, 8, … */
export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && splitPoint(n + 1) === n;
}

/** A complete subtree: `2^level` leaves starting at leaf `index * 2^level`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** The leaf range [lo, hi) of the tree whose Merkle Tree Hash is one proof element. */
export interface LeafRange {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The complete subtrees whose right fold is MTH(D[lo:hi]), largest first. In an RFC 6962 tree every
 * range a proof names starts at a multiple of its own split point, so it decomposes by the bits of
 * its length.
 */
export function rangeNodes(range: LeafRange): NodeId[] {
  const nodes: NodeId[] = [];
  let lo = range.lo;
  let remaining = range.hi - range.lo;
  while (remaining > 0) {
    let size = 1;
    let level = 0;
    while (size * 2 <= remaining) {
      size *= 2;
      level += 1;
    }
    nodes.push({ level, index: lo / size });
    lo += size;
    remaining -= size;
  }
  return nodes;
}

/** The right fold H(a, H(b, H(c, …))) that turns a range's complete subtrees into its hash. */
export function foldRight(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  return hashes.reduceRight((acc, h) => hashChildren(h, acc));
}

/** Called for every completed subtree while hashes are pushed into a compact range. */
export type NodeListener = (level: number, index: number, hash: Buffer) => void;

/**
 * The compact range [0, size): one hash per set bit of `size`. Pushing leaf hashes in order merges
 * completed subtrees (n − 1 interior hashes for n leaves, the same work as building the tree once).
 */
export class CompactRange {
  #size = 0;
  readonly #levels: number[] = [];
  readonly #hashes: Buffer[] = [];
  readonly #onNode: NodeListener | undefined;

  constructor(onNode?: NodeListener) {
    this.#onNode = onNode;
  }

  get size(): number {
    return this.#size;
  }

  /** Append the hash of the next leaf (or of a completed subtree at `level` that starts at `size`). */
  push(hash: Buffer, level = 0): void {
    let h = hash;
    let l = level;
    this.#size += 2 ** level;
    while (this.#levels.at(-1) === l) {
      this.#levels.pop();
      h = hashChildren(defined(this.#hashes.pop(), 'left sibling'), h);
      l += 1;
      this.#onNode?.(l, this.#size / 2 ** l - 1, h);
    }
    this.#levels.push(l);
    this.#hashes.push(h);
  }

  /** The hashes of the range's complete subtrees, largest (leftmost) first. */
  frontier(): readonly Buffer[] {
    return this.#hashes;
  }

  /** MTH(D[0:size]). */
  root(): Buffer {
    return foldRight(this.#hashes);
  }
}

/** MTH over a list of leaf hashes (or of same-level subtree hashes), as RFC 6962 §2.1 defines it. */
export function rootOf(hashes: readonly Buffer[]): Buffer {
  const range = new CompactRange();
  for (const h of hashes) range.push(h);
  return range.root();
}
