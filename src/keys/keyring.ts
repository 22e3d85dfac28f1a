// The workspace keyring: KEK versions sealed by the root key, a DEK per record wrapped by the active KEK
// or by the data subject's key, purpose secrets; rotation, rewrap, destruction and subject shredding.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import { hkdf, open, randomBytes, seal } from '../crypto/index.ts';
import type { Actor, AuditSink } from '../ledger/index.ts';
import { asBuffer, nowIso, type Database, type Store } from '../store/index.ts';
import { KEYRING_ACTOR, kekResource, keyEvent } from './audit.ts';
import { dekBinding, secretBinding, subjectDekBinding } from './binding.ts';
import { wrapDataKey } from './dek-wrap.ts';
import {
  corruptEntry,
  destroyedError,
  KekStore,
  slotsOf,
  type KekState,
  type Rotation,
} from './kek-store.ts';
import { present } from './invariant.ts';
import { KeyScope } from './key-scope.ts';
import { rewrapWorkspace, type RewrapOptions, type RewrapResult } from './rewrap.ts';
import type { RootKeyProvider } from './root-key.ts';
import { SubjectKeys } from './subject-keys.ts';

/** One KEK version as `keys list` shows it. */
export interface KekVersionInfo {
  readonly workspaceId: string;
  readonly version: number;
  readonly state: KekState;
  /** Keys this version has wrapped so far (DEKs, subject keys); it rotates at `rotateAfterWraps`. */
  readonly wrapCount: number;
  /** DEKs wrapped by this version now. */
  readonly dekCount: number;
  /** Subject keys wrapped by this version now. */
  readonly subjectKeyCount: number;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly destroyedAt: string | null;
}

/** Purposes of the long-lived workspace secrets; they survive KEK rotation because derived values must. */
export const SECRET_PURPOSES = ['blind-index', 'token', 'ff1', 'subject'] as const;
export type SecretPurpose = (typeof SECRET_PURPOSES)[number];

/** An unwrapped data encryption key, held as a KeyObject for fast AES-GCM. */
export interface DataKey {
  readonly id: string;
  /** The KEK version active when the DEK was made; field ciphertext names and binds it. */
  readonly originVersion: number;
  readonly subjectId: string | null;
  readonly key: KeyObject;
}

export interface KeyringOptions {
  readonly store: Store;
  readonly root: RootKeyProvider;
  readonly audit: AuditSink;
  /** Rotate the active KEK once it has wrapped this many keys. Default 2^30: a quarter of the 2^32 GCM limit. */
  readonly rotateAfterWraps?: number;
}

/** AES-GCM with random 96-bit nonces stays within NIST SP 800-38D §8.3 only below 2^32 encryptions per key. */
export const GCM_RANDOM_NONCE_LIMIT = 2 ** 32;
export const DEFAULT_ROTATE_AFTER_WRAPS = 2 ** 30;
const CHUNK = 500;

export class Keyring {
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #root: RootKeyProvider;
  readonly #keks: KekStore;
  readonly #subjects: SubjectKeys;
  readonly #limit: number;
  readonly #secrets = new Map<string, Buffer>();

  constructor({ store, root, audit, rotateAfterWraps = DEFAULT_ROTATE_AFTER_WRAPS }: KeyringOptions) {
    if (
      !Number.isInteger(rotateAfterWraps) ||
      rotateAfterWraps < 1 ||
      rotateAfterWraps >= GCM_RANDOM_NONCE_LIMIT
    ) {
      throw new CustosError('CONFIG_INVALID', 'rotateAfterWraps must be an integer from 1 to 2^32-1', {
        details: { field: 'rotateAfterWraps', rule: 'integer in [1, 2^32)' },
      });
    }
    this.#store = store;
    this.#audit = audit;
    this.#root = root;
    this.#limit = rotateAfterWraps;
    this.#keks = new KekStore(root, store.dialect);
    this.#subjects = new SubjectKeys(this.#keks, store.dialect);
  }

  get rotateAfterWraps(): number {
    return this.#limit;
  }

  /**
   * Run `fn` in one store transaction; key events raised inside (automatic rotations) are emitted after commit.
   * Everything `fn` writes must go through `scope.db`.
   */
  async transaction<T>(fn: (scope: KeyScope) => Promise<T>): Promise<T> {
    let scope: KeyScope | undefined;
    const result = await this.#store.db.transaction().execute((trx) => {
      scope = new KeyScope(trx, this.#audit);
      return fn(scope);
    });
    await scope?.flush();
    return result;
  }

  /** A scope over a transaction the caller runs; call `scope.flush()` after it commits. */
  scope(trx: Kysely<Database>): KeyScope {
    return new KeyScope(trx, this.#audit);
  }

  /**
   * Create KEK version 1 and the workspace purpose secrets. Throws NOT_FOUND when the workspace row does not
   * exist, KEYS_WORKSPACE_EXISTS when it already has a keyring.
   */
  async initWorkspace(workspaceId: string, actor: Actor): Promise<KekVersionInfo> {
    const secrets = await Promise.all(
      SECRET_PURPOSES.map(async (purpose) => {
        const raw = randomBytes(32);
        const wrapped = await this.#root.wrap(raw, secretBinding(workspaceId, purpose));
        raw.fill(0);
        return { purpose, wrapped };
      }),
    );
    await this.transaction(async (scope) => {
      const ws = await scope.db
        .selectFrom('workspaces')
        .select('id')
        .where('id', '=', workspaceId)
        .executeTakeFirst();
      if (!ws) {
        throw new CustosError('NOT_FOUND', 'Workspace does not exist', {
          details: { field: 'workspace', rule: 'existing workspace', workspaceId },
        });
      }
      const existing = await scope.db
        .selectFrom('kek_versions')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst();
      if (existing) {
        throw new CustosError('KEYS_WORKSPACE_EXISTS', 'Workspace keyring is already initialized', {
          details: { field: 'workspace', rule: 'not initialized yet', workspaceId },
        });
      }
      await this.#keks.createFirst(scope.db, workspaceId);
      const now = nowIso();
      await scope.db
        .insertInto('workspace_secrets')
        .values(
          secrets.map((s) => ({
            workspace_id: workspaceId,
            purpose: s.purpose,
            wrapped: s.wrapped,
            created_at: now,
          })),
        )
        .execute();
      scope.defer(
        workspaceId,
        keyEvent(
          actor,
          'key.workspace.init',
          { kind: 'workspace', id: workspaceId },
          {
            version: 1,
            secrets: SECRET_PURPOSES.length,
            rootKind: this.#root.kind,
          },
        ),
      );
    });
    const [first] = await this.list(workspaceId);
    if (!first) throw new CustosError('INTERNAL', 'Keyring initialization did not persist');
    return first;
  }

  /** Every KEK version of the workspace, oldest first, with its counts. Throws KEYS_WORKSPACE_UNKNOWN. */
  async list(workspaceId: string): Promise<KekVersionInfo[]> {
    const db = this.#store.db;
    const rows = await db
      .selectFrom('kek_versions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('version')
      .execute();
    if (rows.length === 0) {
      throw new CustosError('KEYS_WORKSPACE_UNKNOWN', 'Workspace has no keyring; initialize it first', {
        details: { field: 'workspace', rule: 'initialized keyring', workspaceId },
      });
    }
    const deks = await db
      .selectFrom('deks')
      .select((eb) => ['kek_version', eb.fn.countAll<number>().as('n')])
      .where('workspace_id', '=', workspaceId)
      .where('kek_version', 'is not', null)
      .groupBy('kek_version')
      .execute();
    const subjects = await db
      .selectFrom('subject_keys')
      .select((eb) => ['kek_version', eb.fn.countAll<number>().as('n')])
      .where('workspace_id', '=', workspaceId)
      .where('kek_version', 'is not', null)
      .groupBy('kek_version')
      .execute();
    const count = (list: { kek_version: number | null; n: number | string | bigint }[], v: number): number =>
      Number(list.find((r) => r.kek_version === v)?.n ?? 0);
    return rows.map((r) => ({
      workspaceId,
      version: r.version,
      state: r.state,
      wrapCount: r.wrap_count,
      dekCount: count(deks, r.version),
      subjectKeyCount: count(subjects, r.version),
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      destroyedAt: r.destroyed_at,
    }));
  }

  /** Make a new KEK version active; older versions decrypt only. Throws KEYS_WORKSPACE_UNKNOWN. */
  async rotate(workspaceId: string, actor: Actor): Promise<KekVersionInfo> {
    const rotation = await this.transaction(async (scope) => {
      const r = await this.#keks.rotate(scope.db, workspaceId);
      scope.defer(workspaceId, rotationEvent(actor, workspaceId, r, 'manual'));
      return r;
    });
    const info = (await this.list(workspaceId)).find((v) => v.version === rotation.version);
    if (!info) throw new CustosError('INTERNAL', 'Rotation did not persist');
    return info;
  }

  /**
   * Move every DEK and subject key wrapped by an older version to the active one, in batches of one
   * transaction each. Field ciphertext is never touched. Stops between batches when `signal` aborts and
   * can be run again to resume. Throws KEYS_KEYRING_CORRUPT naming an entry that does not unwrap.
   */
  async rewrap(workspaceId: string, actor: Actor, opts: RewrapOptions = {}): Promise<RewrapResult> {
    const result = await rewrapWorkspace(
      {
        db: this.#store.db,
        dialect: this.#store.dialect,
        keks: this.#keks,
        limit: this.#limit,
        transaction: (fn) => this.transaction(fn),
        onRotate: (scope, r) => {
          scope.defer(workspaceId, rotationEvent(KEYRING_ACTOR, workspaceId, r, 'wrap-limit'));
        },
      },
      workspaceId,
      opts,
    );
    await this.#audit.record(
      workspaceId,
      keyEvent(actor, 'key.kek.rewrap', kekResource(workspaceId, result.activeVersion), {
        rewrapped: result.rewrapped,
        remaining: result.remaining,
        aborted: result.aborted,
      }),
    );
    return result;
  }

  /**
   * Destroy a retired KEK version: its sealed material is deleted and cannot come back. Throws
   * KEYS_VERSION_UNKNOWN, KEYS_VERSION_ACTIVE, KEYS_VERSION_DESTROYED (already), KEYS_VERSION_IN_USE with the
   * number of DEKs and subject keys that still depend on it (run rewrap first).
   */
  async destroyVersion(workspaceId: string, version: number, actor: Actor): Promise<void> {
    const resource = kekResource(workspaceId, version);
    try {
      await this.transaction(async (scope) => {
        const row = await scope.db
          .selectFrom('kek_versions')
          .select(['state'])
          .where('workspace_id', '=', workspaceId)
          .where('version', '=', version)
          .$if(this.#store.dialect === 'postgres', (qb) => qb.forUpdate())
          .executeTakeFirst();
        if (!row) {
          throw new CustosError('KEYS_VERSION_UNKNOWN', `Key version ${version} does not exist`, {
            details: { field: 'version', rule: 'existing key version', version },
          });
        }
        if (row.state === 'destroyed') throw destroyedError(version);
        if (row.state === 'active') {
          throw new CustosError('KEYS_VERSION_ACTIVE', `Key version ${version} is active; rotate first`, {
            details: { field: 'version', rule: 'retired (decrypt-only) version', version },
          });
        }
        const deks = await countWhere(scope.db, 'deks', workspaceId, version);
        const subjectKeys = await countWhere(scope.db, 'subject_keys', workspaceId, version);
        if (deks + subjectKeys > 0) {
          throw new CustosError(
            'KEYS_VERSION_IN_USE',
            `Key version ${version} still wraps ${deks} data keys and ${subjectKeys} subject keys; run rewrap first`,
            {
              details: {
                field: 'version',
                rule: 'no dependent keys',
                version,
                dependants: deks + subjectKeys,
                deks,
                subjectKeys,
              },
            },
          );
        }
        await scope.db
          .updateTable('kek_versions')
          .set({ state: 'destroyed', wrapped: null, destroyed_at: nowIso() })
          .where('workspace_id', '=', workspaceId)
          .where('version', '=', version)
          .execute();
      });
    } catch (err) {
      if (err instanceof CustosError && err.code.startsWith('KEYS_')) {
        await this.#audit.record(
          workspaceId,
          keyEvent(actor, 'key.kek.destroy', resource, { version, refused: err.code }, 'failure'),
        );
      }
      throw err;
    }
    this.#keks.evict(workspaceId, version);
    await this.#audit.record(workspaceId, keyEvent(actor, 'key.kek.destroy', resource, { version }));
  }

  /**
   * Crypto-shred one data subject: delete their key so every DEK it wraps (and the fields under them) is
   * unrecoverable. Idempotent. Throws KEYS_SUBJECT_UNKNOWN when the subject never had a key.
   */
  async shredSubject(workspaceId: string, subjectId: string, actor: Actor): Promise<{ dekCount: number }> {
    return this.transaction((scope) => this.shredSubjectIn(scope, workspaceId, subjectId, actor));
  }

  /** {@link shredSubject} inside the caller's scope, for erasures that delete more in the same transaction. */
  async shredSubjectIn(
    scope: KeyScope,
    workspaceId: string,
    subjectId: string,
    actor: Actor,
  ): Promise<{ dekCount: number }> {
    const { dekCount, already } = await this.#subjects.shred(scope.db, workspaceId, subjectId);
    scope.defer(
      workspaceId,
      keyEvent(
        actor,
        'key.subject.shred',
        { kind: 'data-subject', id: `${workspaceId}/subject/${subjectId}` },
        {
          dekCount,
          alreadyShredded: already,
        },
      ),
    );
    return { dekCount };
  }

  /** One fresh DEK, wrapped inside the scope's transaction. See {@link createDeks}. */
  async createDek(
    scope: KeyScope,
    workspaceId: string,
    opts: { subjectId?: string | null } = {},
  ): Promise<DataKey> {
    const [dek] = await this.createDeks(scope, workspaceId, [opts.subjectId ?? null]);
    if (!dek) throw new CustosError('INTERNAL', 'No data key was created');
    return dek;
  }

  /**
   * Fresh DEKs, one per entry: wrapped by the active KEK (null) or by that data subject's key (created on
   * first use). Counts the wraps and rotates automatically at `rotateAfterWraps`; the rotation's audit event
   * is emitted when the scope flushes. Throws KEYS_WORKSPACE_UNKNOWN, KEYS_SUBJECT_SHREDDED, KEYS_KEYRING_CORRUPT.
   */
  async createDeks(
    scope: KeyScope,
    workspaceId: string,
    subjects: readonly (string | null)[],
  ): Promise<DataKey[]> {
    const db = scope.db;
    const onRotate = (r: Rotation): void => {
      scope.defer(workspaceId, rotationEvent(KEYRING_ACTOR, workspaceId, r, 'wrap-limit'));
    };
    const distinct = [...new Set(subjects.filter((s): s is string => s !== null))];
    const subjectKeys = await this.#subjects.getOrCreate(db, workspaceId, distinct, this.#limit, onRotate);
    const kekCount = subjects.filter((s) => s === null).length;
    const grants = await this.#keks.allocate(db, workspaceId, kekCount, this.#limit, onRotate);
    const origin = distinct.length > 0 ? (await this.#keks.active(db, workspaceId)).version : 0;
    const now = nowIso();
    const out: DataKey[] = [];
    const rows: Database['deks'][] = [];
    const slots = slotsOf(grants);
    let slot = 0;
    for (const subjectId of subjects) {
      const id = newDekId();
      const raw = randomBytes(32);
      if (subjectId === null) {
        const grant = present(slots[slot++], 'a wrap grant per DEK');
        const wrapped = wrapDataKey(grant.kek, workspaceId, id, grant.version, raw);
        rows.push({
          id,
          workspace_id: workspaceId,
          kek_version: grant.version,
          origin_version: grant.version,
          subject_id: null,
          wrapped,
          created_at: now,
        });
        out.push({ id, originVersion: grant.version, subjectId: null, key: createSecretKey(raw) });
      } else {
        const sk = present(subjectKeys.get(subjectId), 'a key per subject');
        const wrapped = seal(sk, raw, subjectDekBinding(workspaceId, id, subjectId));
        rows.push({
          id,
          workspace_id: workspaceId,
          kek_version: null,
          origin_version: origin,
          subject_id: subjectId,
          wrapped,
          created_at: now,
        });
        out.push({ id, originVersion: origin, subjectId, key: createSecretKey(raw) });
      }
      raw.fill(0);
    }
    for (let i = 0; i < rows.length; i += CHUNK) {
      await db
        .insertInto('deks')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    }
    return out;
  }

  /** Unwrap one DEK. See {@link unwrapDeks}. */
  async unwrapDek(db: Kysely<Database> | null, workspaceId: string, dekId: string): Promise<DataKey> {
    const map = await this.unwrapDeks(db, workspaceId, [dekId]);
    return present(map.get(dekId), 'the requested DEK');
  }

  /**
   * Unwrap DEKs by id (`db` null: the store's own connection; pass the transaction when inside one).
   * Throws KEYS_DEK_UNKNOWN, KEYS_VERSION_DESTROYED (a DEK restored from before its version was destroyed),
   * KEYS_SUBJECT_SHREDDED, KEYS_KEYRING_CORRUPT.
   */
  async unwrapDeks(
    db: Kysely<Database> | null,
    workspaceId: string,
    ids: readonly string[],
  ): Promise<Map<string, DataKey>> {
    const conn = db ?? this.#store.db;
    const unique = [...new Set(ids)];
    const out = new Map<string, DataKey>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const rows = await conn
        .selectFrom('deks as d')
        .leftJoin('kek_versions as k', (j) =>
          j.onRef('k.workspace_id', '=', 'd.workspace_id').onRef('k.version', '=', 'd.kek_version'),
        )
        .select([
          'd.id',
          'd.workspace_id',
          'd.kek_version',
          'd.origin_version',
          'd.subject_id',
          'd.wrapped',
          'k.state',
        ])
        // By primary key only: with the workspace in the WHERE clause as well, SQLite's planner
        // (without statistics) scans the workspace's DEKs through deks_by_subject instead.
        .where('d.id', 'in', unique.slice(i, i + CHUNK))
        .execute()
        .then((found) => found.filter((r) => r.workspace_id === workspaceId));
      const subjectIds = [...new Set(rows.map((r) => r.subject_id).filter((s): s is string => s !== null))];
      const subjectKeys = await this.#subjects.unwrap(conn, workspaceId, subjectIds);
      for (const r of rows) {
        const wrapped = asBuffer(r.wrapped);
        let raw: Buffer;
        try {
          if (r.subject_id !== null) {
            raw = open(
              present(subjectKeys.get(r.subject_id), 'a key per subject'),
              wrapped,
              subjectDekBinding(workspaceId, r.id, r.subject_id),
            );
          } else {
            if (r.kek_version === null) throw corruptEntry('deks', r.id);
            if (r.state === 'destroyed') throw destroyedError(r.kek_version);
            const kek = await this.#keks.key(conn, workspaceId, r.kek_version);
            raw = open(kek, wrapped, dekBinding(workspaceId, r.id, r.kek_version));
          }
        } catch (cause) {
          if (cause instanceof CustosError && cause.code.startsWith('KEYS_')) throw cause;
          throw new CustosError('KEYS_KEYRING_CORRUPT', 'A wrapped data key does not verify', {
            cause,
            details: { field: 'deks', rule: 'unaltered wrapped key', id: r.id },
          });
        }
        out.set(r.id, {
          id: r.id,
          originVersion: r.origin_version,
          subjectId: r.subject_id,
          key: createSecretKey(raw),
        });
        raw.fill(0);
      }
    }
    for (const id of unique) {
      if (!out.has(id)) {
        throw new CustosError('KEYS_DEK_UNKNOWN', 'Data key not found', {
          details: { field: 'dek', rule: 'existing data key', id },
        });
      }
    }
    return out;
  }

  /**
   * The workspace secret for `purpose` (cached; do not mutate the buffer). Pass the transaction as `db` when
   * inside one. Throws KEYS_WORKSPACE_UNKNOWN, KEYS_KEYRING_CORRUPT.
   */
  async purposeSecret(workspaceId: string, purpose: SecretPurpose, db?: Kysely<Database>): Promise<Buffer> {
    const id = `${workspaceId}\u0000${purpose}`;
    const cached = this.#secrets.get(id);
    if (cached) return cached;
    const row = await (db ?? this.#store.db)
      .selectFrom('workspace_secrets')
      .select('wrapped')
      .where('workspace_id', '=', workspaceId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (!row) {
      throw new CustosError('KEYS_WORKSPACE_UNKNOWN', 'Workspace has no keyring; initialize it first', {
        details: { field: 'workspace', rule: 'initialized keyring', workspaceId },
      });
    }
    let secret: Buffer;
    try {
      secret = await this.#root.unwrap(asBuffer(row.wrapped), secretBinding(workspaceId, purpose));
    } catch (cause) {
      throw new CustosError(
        'KEYS_KEYRING_CORRUPT',
        `Workspace ${purpose} secret cannot be unsealed: wrong root key or corrupt keyring`,
        {
          cause,
          details: { field: 'workspace_secrets', rule: 'sealed by this root key and unaltered', purpose },
        },
      );
    }
    this.#secrets.set(id, secret);
    return secret;
  }

  /** A 32-byte key for one use of a purpose secret (HKDF-SHA-256, info = purpose and `context`). */
  async deriveKey(
    workspaceId: string,
    purpose: SecretPurpose,
    context: string,
    db?: Kysely<Database>,
  ): Promise<Buffer> {
    const secret = await this.purposeSecret(workspaceId, purpose, db);
    return hkdf(secret, Buffer.from(workspaceId, 'utf8'), `custos/${purpose}/v1/${context}`);
  }
}

/**
 * `dek_` + 12 hex digits of milliseconds + 80 random bits. Time-ordered ids keep inserts appending to the
 * primary-key index and let rewrap walk the table in near-physical order, touching each page once.
 */
function newDekId(): string {
  return `dek_${Date.now().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
}

function rotationEvent(actor: Actor, workspaceId: string, r: Rotation, trigger: 'manual' | 'wrap-limit') {
  return keyEvent(actor, 'key.kek.rotate', kekResource(workspaceId, r.version), {
    previous: r.previous,
    version: r.version,
    previousWrapCount: r.previousWrapCount,
    trigger,
  });
}

async function countWhere(
  db: Kysely<Database>,
  table: 'deks' | 'subject_keys',
  workspaceId: string,
  version: number,
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('kek_version', '=', version)
    .executeTakeFirstOrThrow();
  return row.n;
}
