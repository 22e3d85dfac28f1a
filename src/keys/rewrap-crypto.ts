// The crypto of one rewrap batch: unwrap each key under its old KEK, wrap it under the granted new one.
// Pure and synchronous, so it runs the same on the main thread or in a worker.
import type { KeyObject } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import { open, seal } from '../crypto/index.ts';
import { dekBinding, subjectKeyBinding } from './binding.ts';

export type RewrapTable = 'subject_keys' | 'deks';

/** A batch of keys wrapped by one old version; `grants` name the new versions, in order, and their counts. */
export interface RewrapJob {
  readonly table: RewrapTable;
  readonly workspaceId: string;
  readonly oldVersion: number;
  readonly oldKek: KeyObject;
  readonly grants: readonly { readonly version: number; readonly kek: KeyObject; readonly count: number }[];
  /** DEK ids or subject ids. */
  readonly ids: readonly string[];
  readonly wrapped: readonly Uint8Array[];
}

/** New wrapped bytes and the version that wrapped each, aligned with the job's ids. */
export interface RewrapOutput {
  readonly wrapped: Buffer[];
  readonly versions: number[];
}

/** Throws KEYS_KEYRING_CORRUPT naming the first entry that does not unwrap. */
export function rewrapJob(job: RewrapJob): RewrapOutput {
  const bind = job.table === 'deks' ? dekBinding : subjectKeyBinding;
  const wrapped: Buffer[] = [];
  const versions: number[] = [];
  let g = 0;
  let used = 0;
  for (let i = 0; i < job.ids.length; i++) {
    const id = job.ids[i] ?? '';
    let grant = job.grants[g];
    while (used === grant?.count) {
      grant = job.grants[++g];
      used = 0;
    }
    const box = job.wrapped[i];
    if (grant === undefined || box === undefined)
      throw new CustosError('INTERNAL', 'Rewrap job is inconsistent');
    used++;
    let raw: Buffer;
    try {
      raw = open(job.oldKek, box, bind(job.workspaceId, id, job.oldVersion));
    } catch (cause) {
      throw new CustosError('KEYS_KEYRING_CORRUPT', `A wrapped key in ${job.table} does not verify`, {
        cause,
        details: { field: job.table, rule: 'unaltered wrapped key', id },
      });
    }
    wrapped.push(seal(grant.kek, raw, bind(job.workspaceId, id, grant.version)));
    versions.push(grant.version);
    raw.fill(0);
  }
  return { wrapped, versions };
}

/** Byte strings packed into one transferable buffer; `ends[i]` is where entry i stops. */
export interface PackedBoxes {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly ends: Uint32Array<ArrayBuffer>;
}

export function pack(boxes: readonly Uint8Array[]): PackedBoxes {
  let total = 0;
  for (const b of boxes) total += b.length;
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(boxes.length);
  let off = 0;
  boxes.forEach((b, i) => {
    bytes.set(b, off);
    off += b.length;
    ends[i] = off;
  });
  return { bytes, ends };
}

export function unpack(p: PackedBoxes): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const end of p.ends) {
    out.push(Buffer.from(p.bytes.buffer, p.bytes.byteOffset + start, end - start));
    start = end;
  }
  return out;
}
