// RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing of a Merkle tree over SHA-256, with explicit domain
// separation: leaf and interior-node inputs start with different bytes, so they can never collide.
// These run once or twice per appended entry, so they use node:crypto's one-shot digest on a
// single buffer (no Hash object per call); the digest itself is node:crypto's SHA-256.
import { hash } from 'node:crypto';

/**
 * SHA-256 of `input` as a Buffer. The digest comes back as a 'binary' (latin1) string, one char per
 * byte (an exact round trip), and is copied into a pooled Buffer: a Buffer made by the digest itself
 * costs more than the digest of a small input (an ArrayBuffer per call), over twice the time here.
 */
function sha256(input: Uint8Array): Buffer {
  return Buffer.from(hash('sha256', input, 'binary'), 'binary');
}

export const HASH_SIZE = 32;

/** Prefix of a leaf hash input: SHA-256(0x00 || entry). */
export const LEAF_PREFIX = 0x00;

/** Prefix of an interior node hash input: SHA-256(0x01 || left || right). */
export const NODE_PREFIX = 0x01;

/** MTH({}) = SHA-256() (RFC 6962 §2.1), the root of the empty tree. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

/** The leaf hash of one log entry. */
export function hashLeaf(entry: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(entry.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return sha256(input);
}

/** Scratch input of node hashes: the digest copies its input, so one buffer serves every call. */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/** The hash of an interior node from its two children (the "chain inner" step of a proof). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    const input = Buffer.allocUnsafe(1 + left.length + right.length);
    input[0] = NODE_PREFIX;
    input.set(left, 1);
    input.set(right, 1 + left.length);
    return sha256(input);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}
