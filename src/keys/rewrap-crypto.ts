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
  const wrapped: Buffer[] = [];
  const versions: number[] = [];
  rewrapRange(job, 0, job.ids.length, (i, box, version) => {
    wrapped.push(box);
    versions.push(version);
  });
  return { wrapped, versions };
}

/** Rewrap entries `from` to `to` (exclusive) of a job, handing each new box and its version to `emit`. */
function rewrapRange(
  job: RewrapJob,
  from: number,
  to: number,
  emit: (i: number, box: Buffer, version: number) => void,
): void {
  const bind = job.table === 'deks' ? dekBinding : subjectKeyBinding;
  // The grant that covers entry `from`: grants cover the entries in order.
  let g = 0;
  let used = from;
  while (job.grants[g] !== undefined && used >= (job.grants[g]?.count ?? 0)) {
    used -= job.grants[g]?.count ?? 0;
    g++;
  }
  for (let i = from; i < to; i++) {
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
    emit(i, seal(grant.kek, raw, bind(job.workspaceId, id, grant.version)), grant.version);
    raw.fill(0);
  }
}

/**
 * A batch in shared memory, so a worker and the main thread can share its crypto: each claims chunks of
 * entries from `claim` until none are left. A rewrapped box is exactly as long as the box it replaces, so
 * entry i goes to the same place in `output` as it came from in `input`.
 */
export interface SharedBatch {
  readonly input: Uint8Array<SharedArrayBuffer>;
  readonly ends: Uint32Array<SharedArrayBuffer>;
  readonly output: Uint8Array<SharedArrayBuffer>;
  readonly versions: Int32Array<SharedArrayBuffer>;
  readonly claim: Int32Array<SharedArrayBuffer>;
}

/** Entries per claim: small enough to even out the threads' share, large enough to keep claims cheap. */
const CHUNK = 128;

export function shareBatch(boxes: readonly Uint8Array[]): SharedBatch {
  let total = 0;
  for (const b of boxes) total += b.length;
  const input = new Uint8Array(new SharedArrayBuffer(total));
  const ends = new Uint32Array(new SharedArrayBuffer(4 * boxes.length));
  let off = 0;
  boxes.forEach((b, i) => {
    input.set(b, off);
    off += b.length;
    ends[i] = off;
  });
  return {
    input,
    ends,
    output: new Uint8Array(new SharedArrayBuffer(total)),
    versions: new Int32Array(new SharedArrayBuffer(4 * boxes.length)),
    claim: new Int32Array(new SharedArrayBuffer(4)),
  };
}

/** The boxes of a shared batch's input, as views. */
export function sharedInput(batch: SharedBatch): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const end of batch.ends) {
    out.push(Buffer.from(batch.input.buffer, batch.input.byteOffset + start, end - start));
    start = end;
  }
  return out;
}

/** Rewrap the chunks of a shared batch this thread claims; returns once every chunk is claimed. */
export function rewrapClaimed(job: RewrapJob, batch: SharedBatch): void {
  const n = job.ids.length;
  const chunks = Math.ceil(n / CHUNK);
  for (let c = Atomics.add(batch.claim, 0, 1); c < chunks; c = Atomics.add(batch.claim, 0, 1)) {
    rewrapRange(job, c * CHUNK, Math.min(n, (c + 1) * CHUNK), (i, box, version) => {
      const end = batch.ends[i] ?? 0;
      if (box.length !== end - (i === 0 ? 0 : (batch.ends[i - 1] ?? 0)))
        throw new CustosError('INTERNAL', 'Rewrapped key changed size');
      batch.output.set(box, end - box.length);
      batch.versions[i] = version;
    });
  }
}

/** The finished output of a shared batch, copied out of shared memory. */
export function sharedOutput(batch: SharedBatch): RewrapOutput {
  // Every thread's last claim comes after its last write: this read orders those writes before ours.
  Atomics.load(batch.claim, 0);
  const bytes = Buffer.from(batch.output.slice().buffer);
  const wrapped: Buffer[] = [];
  let start = 0;
  for (const end of batch.ends) {
    wrapped.push(bytes.subarray(start, end));
    start = end;
  }
  return { wrapped, versions: Array.from(batch.versions) };
}
