// Which subtree hashes make up an RFC 9162 inclusion or consistency proof (§2.1.3.1, §2.1.4.1),
// and assembling a proof from a reader of complete subtree hashes. Generation only; see verify-proof.ts.
import { CustosError } from '../errors/index.ts';
import { foldRight, rangeNodes, splitPoint, type LeafRange, type NodeId } from './tree.ts';

/** Reads the hashes of complete subtrees, in the order asked. */
export type NodeReader = (nodes: readonly NodeId[]) => Promise<Buffer[]>;

function checkSize(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CustosError('LEDGER_INDEX_OUT_OF_RANGE', `${field} must be a non-negative integer`, {
      details: { field, rule: 'integer ≥ 0' },
    });
  }
}

/**
 * The ranges of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf sibling first.
 * Throws LEDGER_INDEX_OUT_OF_RANGE unless 0 ≤ index < size.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) {
    throw new CustosError('LEDGER_INDEX_OUT_OF_RANGE', `Index ${index} is not below tree size ${size}`, {
      details: { field: 'index', rule: `index < tree size ${size}`, index, size },
    });
  }
  const out: LeafRange[] = [];
  const walk = (lo: number, hi: number): void => {
    if (hi - lo <= 1) return;
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      walk(lo, lo + k);
      out.push({ lo: lo + k, hi });
    } else {
      walk(lo + k, hi);
      out.push({ lo, hi: lo + k });
    }
  };
  walk(0, size);
  return out;
}

/**
 * The ranges of PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1); empty when size1 is 0 or equals size2.
 * Throws LEDGER_INDEX_OUT_OF_RANGE unless 0 ≤ size1 ≤ size2.
 */
export function consistencyRanges(size1: number, size2: number): LeafRange[] {
  checkSize(size1, 'from');
  checkSize(size2, 'to');
  if (size1 > size2) {
    throw new CustosError('LEDGER_INDEX_OUT_OF_RANGE', `Tree size ${size1} is larger than ${size2}`, {
      details: { field: 'from', rule: `from ≤ to (${size2})`, from: size1, to: size2 },
    });
  }
  if (size1 === 0 || size1 === size2) return [];
  const out: LeafRange[] = [];
  const sub = (lo: number, hi: number, complete: boolean): void => {
    if (size1 === hi) {
      if (!complete) out.push({ lo, hi });
      return;
    }
    const k = splitPoint(hi - lo);
    if (size1 <= lo + k) {
      sub(lo, lo + k, complete);
      out.push({ lo: lo + k, hi });
    } else {
      sub(lo + k, hi, false);
      out.push({ lo, hi: lo + k });
    }
  };
  sub(0, size2, true);
  return out;
}

/** MTH of each range, reading every complete subtree it needs in one call. */
export async function hashRanges(ranges: readonly LeafRange[], read: NodeReader): Promise<Buffer[]> {
  const perRange = ranges.map(rangeNodes);
  const hashes = await read(perRange.flat());
  let at = 0;
  return perRange.map((nodes) => {
    const part = hashes.slice(at, at + nodes.length);
    at += nodes.length;
    return foldRight(part);
  });
}
