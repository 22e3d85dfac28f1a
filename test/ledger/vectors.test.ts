// The one table-driven run of the ledger's spec vectors under test/vectors/{rfc6962,c2sp}: RFC 6962
// hashing and proofs (transparency-dev/merkle, the tree Certificate Transparency uses), C2SP
// signed-note, tlog-checkpoint, tlog-tiles and tlog-proof. Each case is titled with its source.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CustosError } from '../../src/errors/index.ts';
import {
  CompactRange,
  consistencyRanges,
  EMPTY_ROOT,
  formatCheckpoint,
  formatTileIndex,
  hashChildren,
  hashLeaf,
  inclusionRanges,
  openNote,
  parseCheckpoint,
  parseNote,
  parseTilePath,
  parseTlogProof,
  parseVerifierKey,
  rootOf,
  signNote,
  tileWidthFor,
  verifyConsistency,
  verifyInclusion,
  ed25519Signer,
} from '../../src/ledger/index.ts';
import { decodeNote } from '../../src/ledger/note.ts';

type Fields = Readonly<Record<string, unknown>>;

interface Vector {
  readonly file: string;
  readonly title: string;
  readonly kind: string;
  readonly fields: Fields;
  readonly doc: Fields;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadVectors(spec: string): Vector[] {
  const dir = new URL(`../vectors/${spec}/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const doc = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown;
      if (!isFields(doc) || !Array.isArray(doc.cases)) throw new Error(`${spec}/${file} has no cases`);
      return (doc.cases as unknown[]).map((c, i): Vector => {
        if (!isFields(c) || typeof c.title !== 'string' || typeof c.kind !== 'string') {
          throw new Error(`${spec}/${file} case ${i} has no title or kind`);
        }
        return { file, title: c.title, kind: c.kind, fields: c, doc };
      });
    });
}

const str = (v: Vector, k: string): string => {
  const x = v.fields[k];
  if (typeof x !== 'string') throw new Error(`${v.title}: ${k} must be a string`);
  return x;
};
const int = (v: Vector, k: string): number => {
  const x = v.fields[k];
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new Error(`${v.title}: ${k} must be an integer`);
  return x;
};
const strs = (v: Vector, k: string): string[] => {
  const x = v.fields[k];
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string'))
    throw new Error(`${v.title}: ${k} must be strings`);
  return x;
};
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

function leafHashesOf(v: Vector): Buffer[] {
  const leaves = v.doc.leaves;
  if (!Array.isArray(leaves)) throw new Error(`${v.file}: no leaves`);
  return (leaves as string[]).map((l) => hashLeaf(hex(l)));
}

/** MTH of leaves [lo, hi) computed straight from the definition, for the proof ranges. */
function mth(leafHashes: readonly Buffer[], lo: number, hi: number): Buffer {
  return rootOf(leafHashes.slice(lo, hi));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CustosError) return err.code;
    throw err;
  }
}

describe('RFC 6962 / RFC 9162 vectors', () => {
  for (const v of loadVectors('rfc6962')) {
    it(v.title, () => {
      switch (v.kind) {
        case 'emptyRoot':
          expect(EMPTY_ROOT.toString('hex')).toBe(str(v, 'want'));
          expect(new CompactRange().root().toString('hex')).toBe(str(v, 'want'));
          return;
        case 'leafHash':
          expect(hashLeaf(hex(str(v, 'input'))).toString('hex')).toBe(str(v, 'want'));
          return;
        case 'nodeHash':
          expect(hashChildren(hex(str(v, 'left')), hex(str(v, 'right'))).toString('hex')).toBe(
            str(v, 'want'),
          );
          return;
        case 'root': {
          const leaves = leafHashesOf(v).slice(0, int(v, 'size'));
          expect(rootOf(leaves).toString('hex')).toBe(str(v, 'want'));
          return;
        }
        case 'inclusion': {
          const leaves = leafHashesOf(v);
          const index = int(v, 'index');
          const size = int(v, 'size');
          const want = strs(v, 'proof');
          const generated = inclusionRanges(index, size).map((r) => mth(leaves, r.lo, r.hi).toString('hex'));
          expect(generated).toEqual(want);
          const root = rootOf(leaves.slice(0, size));
          const leaf = leaves[index]!;
          verifyInclusion(index, size, leaf, want.map(hex), root);
          // The corruptions verify_test.go applies to every good proof must all fail.
          const proof = want.map(hex);
          const probes: [number, number, Buffer, Buffer[], Buffer][] = [
            [index - 1, size, leaf, proof, root],
            [index + 1, size, leaf, proof, root],
            [index ^ 2, size, leaf, proof, root],
            [index, size * 2, leaf, proof, root],
            [index, Math.floor(size / 2), leaf, proof, root],
            [index, size, Buffer.from('WrongLeaf'), proof, root],
            [index, size, leaf, proof, EMPTY_ROOT],
            [index, size, leaf, [...proof, Buffer.alloc(0)], root],
            [index, size, leaf, [...proof, root], root],
            [index, size, leaf, [Buffer.alloc(0), ...proof], root],
            [index, size, leaf, [root, ...proof], root],
            ...proof.map((_, i): [number, number, Buffer, Buffer[], Buffer] => {
              const bad = proof.map((p) => Buffer.from(p));
              bad[i]![0]! ^= 8;
              return [index, size, leaf, bad, root];
            }),
          ];
          if (proof.length > 0) probes.push([index, size, leaf, proof.slice(0, -1), root]);
          for (const [i, s, l, p, r] of probes) {
            expect(
              codeOf(() => {
                verifyInclusion(i, s, l, p, r);
              }),
              `probe ${i}/${s}`,
            ).toBe('LEDGER_INCLUSION_PROOF_INVALID');
          }
          return;
        }
        case 'consistency': {
          const leaves = leafHashesOf(v);
          const size1 = int(v, 'size1');
          const size2 = int(v, 'size2');
          const want = strs(v, 'proof');
          const generated = consistencyRanges(size1, size2).map((r) =>
            mth(leaves, r.lo, r.hi).toString('hex'),
          );
          expect(generated).toEqual(want);
          const root1 = rootOf(leaves.slice(0, size1));
          const root2 = rootOf(leaves.slice(0, size2));
          const proof = want.map(hex);
          verifyConsistency(size1, size2, proof, root1, root2);
          if (proof.length === 0) return;
          const probes: [number, number, Buffer, Buffer, Buffer[]][] = [
            [size1 - 1, size2, root1, root2, proof],
            [size1 + 1, size2, root1, root2, proof],
            [size1 ^ 2, size2, root1, root2, proof],
            [size1, size2 * 2, root1, root2, proof],
            [size1, Math.floor(size2 / 2), root1, root2, proof],
            [size1, size2, Buffer.from('WrongRoot'), root2, proof],
            [size1, size2, root1, Buffer.from('WrongRoot'), proof],
            [size1, size2, root2, root1, proof],
            [size1, size2, root1, root2, []],
            [size1, size2, root1, root2, [...proof, Buffer.alloc(0)]],
            [size1, size2, root1, root2, [...proof, root1]],
            [size1, size2, root1, root2, [...proof, root2]],
            [size1, size2, root1, root2, [Buffer.alloc(0), ...proof]],
            [size1, size2, root1, root2, [root1, ...proof]],
            [size1, size2, root1, root2, [root2, ...proof]],
            [size1, size2, root1, root2, [proof[0]!, ...proof]],
            [size1, size2, root1, root2, proof.slice(0, -1)],
            ...proof.map((_, i): [number, number, Buffer, Buffer, Buffer[]] => {
              const bad = proof.map((p) => Buffer.from(p));
              bad[i]![0]! ^= 16;
              return [size1, size2, root1, root2, bad];
            }),
          ];
          for (const [a, b, r1, r2, p] of probes) {
            expect(
              codeOf(() => {
                verifyConsistency(a, b, p, r1, r2);
              }),
              `probe ${a}/${b}`,
            ).toBe('LEDGER_CONSISTENCY_PROOF_INVALID');
          }
          return;
        }
        case 'verifyConsistencyHex': {
          const run = () => {
            verifyConsistency(
              int(v, 'size1'),
              int(v, 'size2'),
              strs(v, 'proof').map(hex),
              hex(str(v, 'root1')),
              hex(str(v, 'root2')),
            );
          };
          expect(codeOf(run) !== undefined).toBe(v.fields.wantErr === true);
          return;
        }
        case 'verifyInclusion': {
          const run = () => {
            verifyInclusion(
              int(v, 'leafIdx'),
              int(v, 'treeSize'),
              b64(str(v, 'leafHash')),
              strs(v, 'proof').map(b64),
              b64(str(v, 'root')),
            );
          };
          expect(codeOf(run) !== undefined).toBe(v.fields.wantErr === true);
          return;
        }
        case 'verifyConsistency': {
          const run = () => {
            verifyConsistency(
              int(v, 'size1'),
              int(v, 'size2'),
              strs(v, 'proof').map(b64),
              b64(str(v, 'root1')),
              b64(str(v, 'root2')),
            );
          };
          expect(codeOf(run) !== undefined).toBe(v.fields.wantErr === true);
          return;
        }
        default:
          throw new Error(`unknown kind ${v.kind}`);
      }
    });
  }
});

describe('C2SP vectors', () => {
  for (const v of loadVectors('c2sp')) {
    it(v.title, () => {
      switch (`${v.file}:${v.kind}`) {
        case 'signed-note.json:verifierKey': {
          const key = parseVerifierKey(str(v, 'key'));
          expect(key.name).toBe(str(v, 'name'));
          expect(key.keyId.toString(16).padStart(8, '0')).toBe(str(v, 'keyId'));
          return;
        }
        case 'signed-note.json:badVerifierKey':
          expect(codeOf(() => parseVerifierKey(str(v, 'key')))).toBe('LEDGER_VERIFIER_KEY_INVALID');
          return;
        case 'signed-note.json:sign': {
          // PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed), as golang.org/x/mod/sumdb/note encodes it.
          const [, , name, hash, key] = str(v, 'signerKey').split('+');
          const seed = Buffer.from(str(v, 'signerKey').split('+').slice(4).join('+'), 'base64');
          expect(key).toBeDefined();
          expect(seed[0]).toBe(1);
          const signer = ed25519Signer(name!, seed.subarray(1));
          expect(signer.keyId.toString(16)).toBe(hash);
          expect(signNote(str(v, 'text'), [signer])).toBe(str(v, 'want'));
          return;
        }
        case 'signed-note.json:open': {
          const verifiers = strs(v, 'keys').map(parseVerifierKey);
          const open = () => openNote(decodeNote(hex(str(v, 'noteHex'))), verifiers);
          if (typeof v.fields.error === 'string') {
            expect(codeOf(open)).toBe(v.fields.error);
            return;
          }
          const note = open();
          const id = (s: { name: string; keyId: number }) =>
            `${s.name}+${s.keyId.toString(16).padStart(8, '0')}`;
          expect(note.text).toBe(str(v, 'text'));
          expect(note.verified.map(id)).toEqual(strs(v, 'verified'));
          expect(note.unverified.map(id)).toEqual(strs(v, 'unverified'));
          return;
        }
        case 'signed-note.json:parse': {
          const note = parseNote(decodeNote(hex(str(v, 'noteHex'))));
          expect(note.text).toBe(str(v, 'text'));
          expect(note.signatures.map((s) => s.name)).toEqual(strs(v, 'names'));
          return;
        }
        case 'tlog-checkpoint.json:parse': {
          const c = parseCheckpoint(str(v, 'text'));
          expect(c.origin).toBe(str(v, 'origin'));
          expect(c.size).toBe(int(v, 'size'));
          expect(c.root.toString('base64')).toBe(str(v, 'root'));
          expect(formatCheckpoint(c)).toBe(str(v, 'text'));
          return;
        }
        case 'tlog-checkpoint.json:format': {
          const root = hashLeaf(hex(str(v, 'rootOfLeaf')));
          const text = formatCheckpoint({
            origin: str(v, 'origin'),
            size: int(v, 'size'),
            root,
            extensions: [],
          });
          expect(text).toBe(str(v, 'want'));
          expect(parseCheckpoint(text).root.equals(root)).toBe(true);
          return;
        }
        case 'tlog-checkpoint.json:bad':
          expect(codeOf(() => parseCheckpoint(str(v, 'text')))).toBe('LEDGER_CHECKPOINT_MALFORMED');
          return;
        case 'tlog-tiles.json:index': {
          const index = int(v, 'index');
          expect(formatTileIndex(index)).toBe(str(v, 'path'));
          expect(parseTilePath(`tile/0/${str(v, 'path')}`)).toEqual({ kind: 'hashes', level: 0, index });
          expect(parseTilePath(`tile/entries/${str(v, 'path')}.p/7`)).toEqual({
            kind: 'entries',
            index,
            width: 7,
          });
          return;
        }
        case 'tlog-tiles.json:widths': {
          const size = int(v, 'size');
          for (const l of v.fields.levels as { level: number; full: number; partial: number }[]) {
            const widths: number[] = [];
            for (let n = 0; ; n++) {
              const w = tileWidthFor(size, l.level, n);
              if (w === 0) break;
              widths.push(w);
            }
            expect(widths.filter((w) => w === 256).length, `level ${l.level} full`).toBe(l.full);
            expect(widths.filter((w) => w < 256)).toEqual(l.partial === 0 ? [] : [l.partial]);
          }
          return;
        }
        case 'tlog-proof.json:parse': {
          const p = parseTlogProof(str(v, 'text'));
          expect(p.index).toBe(int(v, 'index'));
          expect(p.proof).toHaveLength(int(v, 'proofLength'));
          expect(p.extra?.toString('base64')).toBe(str(v, 'extra'));
          expect(p.checkpoint.startsWith(str(v, 'checkpointStart'))).toBe(true);
          return;
        }
        default:
          throw new Error(`unknown kind ${v.kind} in ${v.file}`);
      }
    });
  }
});
