// One key per data subject, wrapped by a KEK version: DEKs of that subject's records are wrapped by it,
// so deleting it (shredding) makes exactly that person's data unrecoverable and nobody else's.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import { open, randomBytes, seal } from '../crypto/index.ts';
import { asBuffer, nowIso, type Database, type DialectName } from '../store/index.ts';
import { subjectKeyBinding } from './binding.ts';
import { destroyedError, slotsOf, type KekStore, type Rotation } from './kek-store.ts';
import { present } from './invariant.ts';

const CHUNK = 500;
const SUBJECT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function checkSubjectId(subjectId: string): void {
  if (!SUBJECT_ID.test(subjectId)) {
    throw new CustosError('INPUT_INVALID', 'Subject id must be 1 to 128 characters of [A-Za-z0-9._:-]', {
      details: { field: 'subjectId', rule: '[A-Za-z0-9._:-]{1,128}' },
    });
  }
}

function shreddedError(subjectId: string): CustosError {
  return new CustosError('KEYS_SUBJECT_SHREDDED', 'The data subject was erased: their key is destroyed', {
    details: { field: 'subject', rule: 'subject not erased', subjectId },
  });
}

interface Row {
  subject_id: string;
  kek_version: number | null;
  wrapped: Uint8Array | null;
  shredded_at: string | null;
  state: string | null;
}

export class SubjectKeys {
  readonly #keks: KekStore;
  readonly #dialect: DialectName;

  constructor(keks: KekStore, dialect: DialectName) {
    this.#keks = keks;
    this.#dialect = dialect;
  }

  async #rows(db: Kysely<Database>, workspaceId: string, ids: readonly string[]): Promise<Row[]> {
    const out: Row[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await db
        .selectFrom('subject_keys as s')
        .leftJoin('kek_versions as k', (j) =>
          j.onRef('k.workspace_id', '=', 's.workspace_id').onRef('k.version', '=', 's.kek_version'),
        )
        .select(['s.subject_id', 's.kek_version', 's.wrapped', 's.shredded_at', 'k.state'])
        .where('s.workspace_id', '=', workspaceId)
        .where('s.subject_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      out.push(...rows);
    }
    return out;
  }

  async #open(db: Kysely<Database>, workspaceId: string, r: Row): Promise<KeyObject> {
    if (r.shredded_at !== null || r.wrapped === null || r.kek_version === null)
      throw shreddedError(r.subject_id);
    if (r.state === 'destroyed') throw destroyedError(r.kek_version);
    const kek = await this.#keks.key(db, workspaceId, r.kek_version);
    let raw: Buffer;
    try {
      raw = open(kek, asBuffer(r.wrapped), subjectKeyBinding(workspaceId, r.subject_id, r.kek_version));
    } catch (cause) {
      throw new CustosError('KEYS_KEYRING_CORRUPT', 'A wrapped subject key does not verify', {
        cause,
        details: { field: 'subject_keys', rule: 'unaltered wrapped key', subjectId: r.subject_id },
      });
    }
    const key = createSecretKey(raw);
    raw.fill(0);
    return key;
  }

  /** Unwrap existing subject keys. Throws KEYS_SUBJECT_UNKNOWN, KEYS_SUBJECT_SHREDDED, KEYS_KEYRING_CORRUPT. */
  async unwrap(
    db: Kysely<Database>,
    workspaceId: string,
    ids: readonly string[],
  ): Promise<Map<string, KeyObject>> {
    const out = new Map<string, KeyObject>();
    for (const r of await this.#rows(db, workspaceId, ids))
      out.set(r.subject_id, await this.#open(db, workspaceId, r));
    for (const id of ids) {
      if (!out.has(id)) {
        throw new CustosError('KEYS_SUBJECT_UNKNOWN', 'Data subject has no key', {
          details: { field: 'subject', rule: 'existing subject key', subjectId: id },
        });
      }
    }
    return out;
  }

  /**
   * Subject keys for `ids`, creating (and counting the wraps of) those that do not exist yet.
   * Throws KEYS_SUBJECT_SHREDDED for an erased subject: erasure is sticky.
   */
  async getOrCreate(
    db: Kysely<Database>,
    workspaceId: string,
    ids: readonly string[],
    limit: number,
    onRotate: (r: Rotation) => void,
  ): Promise<Map<string, KeyObject>> {
    ids.forEach(checkSubjectId);
    const out = new Map<string, KeyObject>();
    if (ids.length === 0) return out;
    for (const r of await this.#rows(db, workspaceId, ids))
      out.set(r.subject_id, await this.#open(db, workspaceId, r));
    const missing = ids.filter((id) => !out.has(id));
    if (missing.length === 0) return out;
    const grants = await this.#keks.allocate(db, workspaceId, missing.length, limit, onRotate);
    const now = nowIso();
    const rows: Database['subject_keys'][] = [];
    const slots = slotsOf(grants);
    for (const [i, subjectId] of missing.entries()) {
      const grant = present(slots[i], 'a wrap grant per subject key');
      const raw = randomBytes(32);
      const wrapped = seal(grant.kek, raw, subjectKeyBinding(workspaceId, subjectId, grant.version));
      rows.push({
        workspace_id: workspaceId,
        subject_id: subjectId,
        kek_version: grant.version,
        wrapped,
        created_at: now,
        shredded_at: null,
      });
      out.set(subjectId, createSecretKey(raw));
      raw.fill(0);
    }
    const conflicted: string[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const inserted = await db
        .insertInto('subject_keys')
        .values(chunk)
        .onConflict((oc) => oc.columns(['workspace_id', 'subject_id']).doNothing())
        .returning('subject_id')
        .execute();
      const done = new Set(inserted.map((r) => r.subject_id));
      for (const r of chunk) if (!done.has(r.subject_id)) conflicted.push(r.subject_id);
    }
    // Another writer created some of these keys first: use theirs, which is what is stored.
    if (conflicted.length > 0) {
      for (const r of await this.#rows(db, workspaceId, conflicted))
        out.set(r.subject_id, await this.#open(db, workspaceId, r));
    }
    return out;
  }

  /** Delete a subject key's wrapped material. Throws KEYS_SUBJECT_UNKNOWN. */
  async shred(
    db: Kysely<Database>,
    workspaceId: string,
    subjectId: string,
  ): Promise<{ dekCount: number; already: boolean }> {
    checkSubjectId(subjectId);
    const row = await db
      .selectFrom('subject_keys')
      .select(['shredded_at'])
      .where('workspace_id', '=', workspaceId)
      .where('subject_id', '=', subjectId)
      .$if(this.#dialect === 'postgres', (qb) => qb.forUpdate())
      .executeTakeFirst();
    if (!row) {
      throw new CustosError('KEYS_SUBJECT_UNKNOWN', 'Data subject has no key', {
        details: { field: 'subject', rule: 'existing subject key', subjectId },
      });
    }
    const deks = await db
      .selectFrom('deks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('subject_id', '=', subjectId)
      .executeTakeFirstOrThrow();
    if (row.shredded_at === null) {
      await db
        .updateTable('subject_keys')
        .set({ wrapped: null, kek_version: null, shredded_at: nowIso() })
        .where('workspace_id', '=', workspaceId)
        .where('subject_id', '=', subjectId)
        .execute();
    }
    return { dekCount: deks.n, already: row.shredded_at !== null };
  }
}
