// KEK versions of each workspace: sealed rows in kek_versions, unsealed KeyObjects cached in memory,
// rotation, and wrap-count allocation that rotates before a version reaches its limit.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import { randomBytes } from '../crypto/index.ts';
import { asBuffer, nowIso, type Database, type DialectName } from '../store/index.ts';
import { kekBinding } from './binding.ts';
import type { RootKeyProvider } from './root-key.ts';

export type KekState = 'active' | 'decrypt_only' | 'destroyed';

/** A share of wraps granted under one KEK version. */
export interface WrapGrant {
  readonly version: number;
  readonly kek: KeyObject;
  readonly count: number;
}

/** What a rotation changed, for its audit event. */
export interface Rotation {
  readonly previous: number;
  readonly version: number;
  readonly previousWrapCount: number;
}

export class KekStore {
  readonly #root: RootKeyProvider;
  readonly #dialect: DialectName;
  readonly #cache = new Map<string, KeyObject>();

  constructor(root: RootKeyProvider, dialect: DialectName) {
    this.#root = root;
    this.#dialect = dialect;
  }

  get rootKind(): string {
    return this.#root.kind;
  }

  /** Seal a fresh KEK for `version` with the root provider. */
  async #mint(workspaceId: string, version: number): Promise<{ wrapped: Buffer; key: KeyObject }> {
    const raw = randomBytes(32);
    try {
      const wrapped = await this.#root.wrap(raw, kekBinding(workspaceId, version));
      return { wrapped, key: createSecretKey(raw) };
    } finally {
      raw.fill(0);
    }
  }

  /** Insert version 1 as active. The caller checked that the workspace has no keyring. */
  async createFirst(db: Kysely<Database>, workspaceId: string): Promise<void> {
    const { wrapped, key } = await this.#mint(workspaceId, 1);
    await db
      .insertInto('kek_versions')
      .values({
        workspace_id: workspaceId,
        version: 1,
        state: 'active',
        wrapped,
        wrap_count: 0,
        created_at: nowIso(),
      })
      .execute();
    this.#cache.set(cacheId(workspaceId, 1), key);
  }

  /** The active version row, locked for update on PostgreSQL. Throws KEYS_WORKSPACE_UNKNOWN. */
  async active(db: Kysely<Database>, workspaceId: string): Promise<{ version: number; wrapCount: number }> {
    // Read committed may skip a row a concurrent rotation just retired; the retry sees the new one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await db
        .selectFrom('kek_versions')
        .select(['version', 'wrap_count'])
        .where('workspace_id', '=', workspaceId)
        .where('state', '=', 'active')
        .$if(this.#dialect === 'postgres', (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (row) return { version: row.version, wrapCount: row.wrap_count };
      const any = await db
        .selectFrom('kek_versions')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst();
      if (!any) break;
    }
    throw new CustosError('KEYS_WORKSPACE_UNKNOWN', 'Workspace has no keyring; initialize it first', {
      details: { field: 'workspace', rule: 'initialized keyring', workspaceId },
    });
  }

  /**
   * The unsealed KEK of a version that is not destroyed. Throws KEYS_VERSION_UNKNOWN, KEYS_VERSION_DESTROYED,
   * KEYS_KEYRING_CORRUPT when the root key cannot unseal it.
   */
  async key(db: Kysely<Database>, workspaceId: string, version: number): Promise<KeyObject> {
    const cached = this.#cache.get(cacheId(workspaceId, version));
    if (cached) return cached;
    const row = await db
      .selectFrom('kek_versions')
      .select(['state', 'wrapped'])
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!row) {
      throw new CustosError('KEYS_VERSION_UNKNOWN', `Key version ${version} does not exist`, {
        details: { field: 'version', rule: 'existing key version', version },
      });
    }
    if (row.state === 'destroyed' || row.wrapped === null) throw destroyedError(version);
    let raw: Buffer;
    try {
      raw = await this.#root.unwrap(asBuffer(row.wrapped), kekBinding(workspaceId, version));
    } catch (cause) {
      if (cause instanceof CustosError && cause.code !== 'KEYS_KEYRING_CORRUPT') throw cause;
      throw new CustosError(
        'KEYS_KEYRING_CORRUPT',
        `Key version ${version} cannot be unsealed: wrong root key or corrupt keyring`,
        { cause, details: { field: 'kek_versions', rule: 'sealed by this root key and unaltered', version } },
      );
    }
    if (raw.length !== 32) throw corruptEntry('kek_versions', version);
    const key = createSecretKey(raw);
    raw.fill(0);
    this.#cache.set(cacheId(workspaceId, version), key);
    return key;
  }

  /** Make a new version active and the current one decrypt-only. Throws KEYS_WORKSPACE_UNKNOWN. */
  async rotate(db: Kysely<Database>, workspaceId: string): Promise<Rotation> {
    const current = await this.active(db, workspaceId);
    const max = await db
      .selectFrom('kek_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    const version = max.v + 1;
    const { wrapped, key } = await this.#mint(workspaceId, version);
    const now = nowIso();
    // Retire first: the partial unique index allows one active version per workspace.
    await db
      .updateTable('kek_versions')
      .set({ state: 'decrypt_only', retired_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', current.version)
      .execute();
    await db
      .insertInto('kek_versions')
      .values({
        workspace_id: workspaceId,
        version,
        state: 'active',
        wrapped,
        wrap_count: 0,
        created_at: now,
      })
      .execute();
    this.#cache.set(cacheId(workspaceId, version), key);
    return { previous: current.version, version, previousWrapCount: current.wrapCount };
  }

  /**
   * Reserve `count` wraps, counted on the versions that will do them. A version that reaches `limit` is
   * rotated at once, so no version ever wraps more than `limit` keys.
   */
  async allocate(
    db: Kysely<Database>,
    workspaceId: string,
    count: number,
    limit: number,
    onRotate: (r: Rotation) => void,
  ): Promise<WrapGrant[]> {
    const grants: WrapGrant[] = [];
    let left = count;
    while (left > 0) {
      let active = await this.active(db, workspaceId);
      if (active.wrapCount >= limit) {
        onRotate(await this.rotate(db, workspaceId));
        active = await this.active(db, workspaceId);
      }
      const take = Math.min(left, limit - active.wrapCount);
      const kek = await this.key(db, workspaceId, active.version);
      await db
        .updateTable('kek_versions')
        .set((eb) => ({ wrap_count: eb('wrap_count', '+', take) }))
        .where('workspace_id', '=', workspaceId)
        .where('version', '=', active.version)
        .execute();
      grants.push({ version: active.version, kek, count: take });
      left -= take;
      if (active.wrapCount + take >= limit) onRotate(await this.rotate(db, workspaceId));
    }
    return grants;
  }

  /** Forget a version's unsealed key (after destruction). */
  evict(workspaceId: string, version: number): void {
    this.#cache.delete(cacheId(workspaceId, version));
  }
}

/** One grant per wrap, in order: entry i of a batch is wrapped under slots[i]. */
export function slotsOf(grants: readonly WrapGrant[]): WrapGrant[] {
  return grants.flatMap((g) => Array.from({ length: g.count }, () => g));
}

function cacheId(workspaceId: string, version: number): string {
  return `${workspaceId}\u0000${version}`;
}

export function destroyedError(version: number): CustosError {
  return new CustosError(
    'KEYS_VERSION_DESTROYED',
    `Key version ${version} was destroyed; data under it is unrecoverable`,
    {
      details: { field: 'version', rule: 'key version not destroyed', version },
    },
  );
}

export function corruptEntry(table: string, id: string | number): CustosError {
  return new CustosError('KEYS_KEYRING_CORRUPT', `Keyring entry in ${table} is corrupt`, {
    details: { field: table, rule: 'well-formed wrapped key', id },
  });
}
