// Verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs, written after
// the RFC's algorithms. Every input is attacker-controlled: sizes, hash lengths and proof lengths
// are checked before use, and any mismatch is a typed error, never an exception from a library.
import { constantTimeEqual } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { HASH_SIZE, hashChildren } from './hash.ts';
import { defined } from './must.ts';

function inclusionFailure(rule: string, details: Record<string, unknown> = {}): CustosError {
  return new CustosError('LEDGER_INCLUSION_PROOF_INVALID', `Inclusion proof is invalid: ${rule}`, {
    details: { field: 'proof', rule, ...details },
  });
}

function consistencyFailure(rule: string, details: Record<string, unknown> = {}): CustosError {
  return new CustosError('LEDGER_CONSISTENCY_PROOF_INVALID', `Consistency proof is invalid: ${rule}`, {
    details: { field: 'proof', rule, ...details },
  });
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function allHashes(list: readonly Uint8Array[]): boolean {
  return list.every((h) => h.length === HASH_SIZE);
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–5 without the final comparison).
 * Throws LEDGER_INCLUSION_PROOF_INVALID.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  if (!isSize(index) || !isSize(size) || index >= size)
    throw inclusionFailure('index must be below the tree size', { index, size });
  if (leafHash.length !== HASH_SIZE || !allHashes(proof))
    throw inclusionFailure('every hash must be 32 bytes');
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) throw inclusionFailure('proof is longer than the tree is deep', { index, size });
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw inclusionFailure('proof is shorter than the tree is deep', { index, size });
  return r;
}

/** Verify that `leafHash` is at `index` of the tree of `size` with `root`. Throws LEDGER_INCLUSION_PROOF_INVALID. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  if (root.length !== HASH_SIZE) throw inclusionFailure('root must be 32 bytes');
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!constantTimeEqual(computed, root))
    throw inclusionFailure('proof does not lead to the root', { index, size });
}

/**
 * Verify that the tree of `size1` with `root1` is a prefix of the tree of `size2` with `root2`.
 * Throws LEDGER_CONSISTENCY_PROOF_INVALID.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const sizes = { from: size1, to: size2 };
  if (!isSize(size1) || !isSize(size2))
    throw consistencyFailure('sizes must be non-negative integers', sizes);
  if (size2 < size1) throw consistencyFailure('the second tree is smaller than the first', sizes);
  if (size1 === size2) {
    if (proof.length > 0) throw consistencyFailure('proof must be empty for equal sizes', sizes);
    if (!constantTimeEqual(root1, root2)) throw consistencyFailure('roots of equal sizes differ', sizes);
    return;
  }
  if (size1 === 0) {
    // Every tree is consistent with the empty tree (RFC 9162 §2.1.4); there is nothing to prove.
    if (proof.length > 0) throw consistencyFailure('proof must be empty from the empty tree', sizes);
    return;
  }
  if (proof.length === 0) throw consistencyFailure('proof is empty', sizes);
  if (root1.length !== HASH_SIZE || root2.length !== HASH_SIZE || !allHashes(proof)) {
    throw consistencyFailure('every hash must be 32 bytes', sizes);
  }
  // Step 2: when size1 is a power of two, the old root is itself the first node of the path.
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [head, ...rest] = path;
  let fr: Buffer = Buffer.from(defined(head, 'first proof hash'));
  let sr = fr;
  for (const c of rest) {
    if (sn === 0) throw consistencyFailure('proof is longer than needed', sizes);
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw consistencyFailure('proof is shorter than needed', sizes);
  if (!constantTimeEqual(fr, root1)) throw consistencyFailure('proof does not lead to the first root', sizes);
  if (!constantTimeEqual(sr, root2))
    throw consistencyFailure('proof does not lead to the second root', sizes);
}

function isPow2(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}
