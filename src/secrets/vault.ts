// The secrets vault: write-only values sealed under fresh DEKs, versions, per-connector and
// per-environment scope, rotation schedules, and resolution for a step, audited and scrubbed.
import { sql, type Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import type { Keyring, KeyScope } from '../keys/index.ts';
import { withCorrelation, type Actor, type AuditEvent, type AuditSink } from '../ledger/index.ts';
import { registerSecret } from '../observe/index.ts';
import { asBuffer, type Database, type Store } from '../store/index.ts';
import {
  daysOverdue,
  METADATA_COLUMNS,
  nextRotation,
  toMetadata,
  type OverdueSecret,
  type SecretMetadata,
  type SecretState,
} from './metadata.ts';
import {
  ANY_ENV,
  checkConnector,
  checkEnv,
  checkRef,
  checkRotateEvery,
  checkValue,
  checkWorkspace,
  resourceId,
  type CheckedRef,
  type SecretRef,
} from './names.ts';
import { openValue, sealValue } from './sealing.ts';
import { SecretValue } from './secret-value.ts';

export interface SecretsVaultOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly audit: AuditSink;
  /** The clock for rotation dates (tests); default the system clock. */
  readonly clock?: () => Date;
}

export interface WriteSecretInput extends SecretRef {
  readonly value: string | Uint8Array;
  /** Days between rotations; null for none; on rotate, undefined keeps the current schedule. */
  readonly rotateEveryDays?: number | null;
  readonly actor: Actor;
  /** The request or command this change belongs to; carried by the ledger event. */
  readonly correlationId?: string;
}

/** Who changes a secret, and the request it belongs to. */
interface Change {
  readonly actor: Actor;
  readonly correlationId?: string;
}

export interface ListFilter {
  readonly connector?: string;
  readonly env?: string;
  /** Default `active` only. */
  readonly states?: readonly SecretState[];
}

/** What a step presents to get a secret injected; `connector` is the step's own connector. */
export interface ResolveRequest {
  readonly workspace: string;
  readonly name: string;
  readonly connector: string;
  /** The run's environment (a concrete id, never `*`). */
  readonly env: string;
  readonly runId: string;
  readonly correlationId: string;
  readonly actor: Actor;
}

const RUN_ID = /^[\x21-\x7e]{1,200}$/;

function actorId(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (e?.code === '23505') return true;
  return typeof e?.message === 'string' && e.message.includes('UNIQUE constraint failed');
}

function notFound(ref: CheckedRef): CustosError {
  return new CustosError('SECRETS_NOT_FOUND', 'No active secret with this name, connector and environment', {
    details: { field: 'name', rule: 'existing secret', secret: resourceId(ref) },
  });
}

export class SecretsVault {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #audit: AuditSink;
  readonly #clock: () => Date;

  constructor(options: SecretsVaultOptions) {
    this.#store = options.store;
    this.#keyring = options.keyring;
    this.#audit = options.audit;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Serialize writers of one secret across processes (PostgreSQL); SQLite writers are serialized already. */
  async #lock(db: Kysely<Database>, ref: CheckedRef): Promise<void> {
    if (this.#store.dialect !== 'postgres') return;
    const key = `secret/${ref.workspace}/${resourceId(ref)}`;
    await sql`select pg_advisory_xact_lock(${0x73656372}, hashtext(${key}))`.execute(db);
  }

  #active(db: Kysely<Database>, ref: CheckedRef) {
    return db
      .selectFrom('secret_versions')
      .select(['version', 'rotate_every_days'])
      .where('workspace_id', '=', ref.workspace)
      .where('name', '=', ref.name)
      .where('connector', '=', ref.connector)
      .where('env', '=', ref.env)
      .where('state', '=', 'active')
      .executeTakeFirst();
  }

  async #nextVersion(db: Kysely<Database>, ref: CheckedRef): Promise<number> {
    const row = await db
      .selectFrom('secret_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('workspace_id', '=', ref.workspace)
      .where('name', '=', ref.name)
      .where('connector', '=', ref.connector)
      .where('env', '=', ref.env)
      .executeTakeFirst();
    return (row?.v ?? 0) + 1;
  }

  async #insert(
    scope: KeyScope,
    ref: CheckedRef,
    version: number,
    value: Buffer,
    days: number | null,
    actor: Actor,
  ) {
    const dek = await this.#keyring.createDek(scope, ref.workspace);
    const now = this.#clock();
    const row: Database['secret_versions'] = {
      workspace_id: ref.workspace,
      name: ref.name,
      connector: ref.connector,
      env: ref.env,
      version,
      state: 'active',
      dek_id: dek.id,
      ciphertext: sealValue(dek.key, ref, version, dek.id, value),
      created_by: actorId(actor),
      created_at: now.toISOString(),
      retired_at: null,
      rotate_every_days: days,
      next_rotation_at: nextRotation(now, days),
      deleted_at: null,
    };
    await scope.db.insertInto('secret_versions').values(row).execute();
    return toMetadata(row);
  }

  async #record(ref: CheckedRef, event: Omit<AuditEvent, 'time' | 'resource'>): Promise<void> {
    await this.#audit.record(ref.workspace, {
      time: this.#clock().toISOString(),
      resource: { kind: 'secret', id: resourceId(ref) },
      ...event,
    });
  }

  async #write(input: WriteSecretInput, mode: 'set' | 'rotate'): Promise<SecretMetadata> {
    const ref = checkRef(input);
    const days = input.rotateEveryDays === undefined ? undefined : checkRotateEvery(input.rotateEveryDays);
    const value = checkValue(input.value);
    let meta: SecretMetadata;
    try {
      meta = await this.#keyring.transaction(async (scope) => {
        await this.#lock(scope.db, ref);
        const active = await this.#active(scope.db, ref);
        if (mode === 'set' && active !== undefined) {
          throw new CustosError('SECRETS_EXISTS', 'Secret already exists; use rotate to replace its value', {
            details: { field: 'name', rule: 'new secret', secret: resourceId(ref) },
          });
        }
        if (mode === 'rotate') {
          if (active === undefined) throw notFound(ref);
          await scope.db
            .updateTable('secret_versions')
            .set({ state: 'retired', retired_at: this.#clock().toISOString() })
            .where('workspace_id', '=', ref.workspace)
            .where('name', '=', ref.name)
            .where('connector', '=', ref.connector)
            .where('env', '=', ref.env)
            .where('version', '=', active.version)
            .execute();
        }
        const schedule = days !== undefined ? days : (active?.rotate_every_days ?? null);
        return this.#insert(scope, ref, await this.#nextVersion(scope.db, ref), value, schedule, input.actor);
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new CustosError(
          mode === 'set' ? 'SECRETS_EXISTS' : 'STORE_CONFLICT',
          'Secret was changed concurrently',
          {
            cause: err,
            details: { field: 'name', rule: 'one writer at a time', secret: resourceId(ref) },
          },
        );
      }
      throw err;
    } finally {
      value.fill(0);
    }
    await this.#record(ref, {
      actor: input.actor,
      ...withCorrelation(input.correlationId),
      action: mode === 'set' ? 'secret.set' : 'secret.rotate',
      outcome: 'success',
      details: {
        name: ref.name,
        connector: ref.connector,
        env: ref.env,
        version: meta.version,
        rotateEveryDays: meta.rotateEveryDays,
      },
    });
    return meta;
  }

  /**
   * Store a new secret (version 1, or the next number after a deleted one). Throws INPUT_INVALID,
   * SECRETS_NAME_INVALID, SECRETS_SCOPE_INVALID, SECRETS_VALUE_INVALID, SECRETS_SCHEDULE_INVALID,
   * SECRETS_EXISTS, KEYS_WORKSPACE_UNKNOWN.
   */
  set(input: WriteSecretInput): Promise<SecretMetadata> {
    return this.#write(input, 'set');
  }

  /** Replace the value with a new version; the old one is retired. Throws as {@link set}, SECRETS_NOT_FOUND, STORE_CONFLICT. */
  rotate(input: WriteSecretInput): Promise<SecretMetadata> {
    return this.#write(input, 'rotate');
  }

  /**
   * Delete a secret: every version's ciphertext is wiped, metadata stays for the record.
   * Throws SECRETS_NAME_INVALID, SECRETS_SCOPE_INVALID, SECRETS_NOT_FOUND.
   */
  async delete(input: SecretRef & Change): Promise<{ versions: number }> {
    const ref = checkRef(input);
    const versions = await this.#store.db.transaction().execute(async (trx) => {
      await this.#lock(trx, ref);
      if ((await this.#active(trx, ref)) === undefined) throw notFound(ref);
      const res = await trx
        .updateTable('secret_versions')
        .set({ state: 'deleted', ciphertext: null, deleted_at: this.#clock().toISOString() })
        .where('workspace_id', '=', ref.workspace)
        .where('name', '=', ref.name)
        .where('connector', '=', ref.connector)
        .where('env', '=', ref.env)
        .where('state', '<>', 'deleted')
        .executeTakeFirst();
      return Number(res.numUpdatedRows);
    });
    await this.#record(ref, {
      actor: input.actor,
      ...withCorrelation(input.correlationId),
      action: 'secret.delete',
      outcome: 'success',
      details: { name: ref.name, connector: ref.connector, env: ref.env, versionsWiped: versions },
    });
    return { versions };
  }

  /**
   * Set or clear (null) the rotation interval of the active version; due dates count from its creation.
   * Throws SECRETS_SCHEDULE_INVALID, SECRETS_NOT_FOUND and the reference errors.
   */
  async schedule(input: SecretRef & Change & { readonly rotateEveryDays: number | null }) {
    const ref = checkRef(input);
    const days = checkRotateEvery(input.rotateEveryDays);
    const meta = await this.#store.db.transaction().execute(async (trx) => {
      await this.#lock(trx, ref);
      const row = await trx
        .selectFrom('secret_versions')
        .select(METADATA_COLUMNS)
        .where('workspace_id', '=', ref.workspace)
        .where('name', '=', ref.name)
        .where('connector', '=', ref.connector)
        .where('env', '=', ref.env)
        .where('state', '=', 'active')
        .executeTakeFirst();
      if (row === undefined) throw notFound(ref);
      const next = nextRotation(new Date(row.created_at), days);
      await trx
        .updateTable('secret_versions')
        .set({ rotate_every_days: days, next_rotation_at: next })
        .where('workspace_id', '=', ref.workspace)
        .where('name', '=', ref.name)
        .where('connector', '=', ref.connector)
        .where('env', '=', ref.env)
        .where('version', '=', row.version)
        .execute();
      return toMetadata({ ...row, rotate_every_days: days, next_rotation_at: next });
    });
    await this.#record(ref, {
      actor: input.actor,
      ...withCorrelation(input.correlationId),
      action: 'secret.schedule',
      outcome: 'success',
      details: {
        name: ref.name,
        connector: ref.connector,
        env: ref.env,
        version: meta.version,
        rotateEveryDays: days,
      },
    });
    return meta;
  }

  /** Metadata of the workspace's secrets (active ones by default). Never a value. Throws the reference errors. */
  async list(workspace: string, filter: ListFilter = {}): Promise<SecretMetadata[]> {
    checkWorkspace(workspace);
    if (filter.connector !== undefined) checkConnector(filter.connector);
    if (filter.env !== undefined) checkEnv(filter.env);
    const rows = await this.#store.db
      .selectFrom('secret_versions')
      .select(METADATA_COLUMNS)
      .where('workspace_id', '=', workspace)
      .where('state', 'in', filter.states ?? ['active'])
      .$if(filter.connector !== undefined, (qb) => qb.where('connector', '=', filter.connector ?? ''))
      .$if(filter.env !== undefined, (qb) => qb.where('env', '=', filter.env ?? ''))
      .orderBy('connector')
      .orderBy('env')
      .orderBy('name')
      .orderBy('version')
      .execute();
    return rows.map(toMetadata);
  }

  /** Every version of one secret, oldest first. Throws the reference errors, SECRETS_NOT_FOUND. */
  async versions(input: SecretRef): Promise<SecretMetadata[]> {
    const ref = checkRef(input);
    const rows = await this.#store.db
      .selectFrom('secret_versions')
      .select(METADATA_COLUMNS)
      .where('workspace_id', '=', ref.workspace)
      .where('name', '=', ref.name)
      .where('connector', '=', ref.connector)
      .where('env', '=', ref.env)
      .orderBy('version')
      .execute();
    if (rows.length === 0) throw notFound(ref);
    return rows.map(toMetadata);
  }

  /** Active secrets past their rotation date, most overdue first. */
  async overdue(workspace: string, now: Date = this.#clock()): Promise<OverdueSecret[]> {
    checkWorkspace(workspace);
    const rows = await this.#store.db
      .selectFrom('secret_versions')
      .select(METADATA_COLUMNS)
      .where('workspace_id', '=', workspace)
      .where('state', '=', 'active')
      .where('next_rotation_at', 'is not', null)
      .where('next_rotation_at', '<=', now.toISOString())
      .orderBy('next_rotation_at')
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ ...toMetadata(r), daysOverdue: daysOverdue(r.next_rotation_at ?? '', now) }));
  }

  /**
   * Resolve a secret for a running step. Only a step whose connector is the secret's scope gets it;
   * an environment-specific secret wins over a `*` one. Every attempt is a `secret.resolve` ledger
   * event with the run's correlation id; the value is registered with the scrubber before it is returned.
   * Throws INPUT_INVALID, SECRETS_NAME_INVALID, SECRETS_SCOPE_INVALID, SECRETS_SCOPE_DENIED,
   * SECRETS_NOT_FOUND, SECRETS_CORRUPT, KEYS_* (key unwrap).
   */
  async resolveForStep(req: ResolveRequest): Promise<SecretValue> {
    const ref = checkRef(req);
    if (ref.env === ANY_ENV) {
      throw new CustosError('SECRETS_SCOPE_INVALID', 'A run resolves secrets for one concrete environment', {
        details: { field: 'env', rule: 'environment id, not *' },
      });
    }
    for (const [field, value] of [
      ['runId', req.runId],
      ['correlationId', req.correlationId],
    ] as const) {
      if (!RUN_ID.test(value)) {
        throw new CustosError('INPUT_INVALID', `${field} is required`, {
          details: { field, rule: '1..200 visible ASCII characters' },
        });
      }
    }
    const audit = (outcome: AuditEvent['outcome'], details: Record<string, string | number>) =>
      this.#record(ref, {
        actor: req.actor,
        action: 'secret.resolve',
        outcome,
        correlationId: req.correlationId,
        details: { name: ref.name, connector: ref.connector, env: ref.env, runId: req.runId, ...details },
      });
    const candidates = await this.#store.db
      .selectFrom('secret_versions')
      .select(['connector', 'env', 'version', 'dek_id', 'ciphertext'])
      .where('workspace_id', '=', ref.workspace)
      .where('name', '=', ref.name)
      .where('state', '=', 'active')
      .where('env', 'in', [ref.env, ANY_ENV])
      .execute();
    const mine = candidates.filter((c) => c.connector === ref.connector);
    const row = mine.find((c) => c.env === ref.env) ?? mine.find((c) => c.env === ANY_ENV);
    if (row?.ciphertext == null) {
      if (candidates.length > 0) {
        await audit('denied', { reason: 'SECRETS_SCOPE_DENIED' });
        throw new CustosError(
          'SECRETS_SCOPE_DENIED',
          'Secret is scoped to another connector than this step',
          {
            details: {
              field: 'connector',
              rule: "the step's connector must be the secret's scope",
              secret: resourceId(ref),
            },
          },
        );
      }
      await audit('failure', { reason: 'SECRETS_NOT_FOUND' });
      throw notFound(ref);
    }
    const scoped = { ...ref, env: row.env };
    const dek = await this.#keyring.unwrapDek(null, ref.workspace, row.dek_id);
    const value = openValue(dek.key, scoped, row.version, row.dek_id, asBuffer(row.ciphertext));
    registerSecret(value);
    await audit('success', { version: row.version, scope: row.env });
    return new SecretValue(
      { name: ref.name, connector: ref.connector, env: row.env, version: row.version },
      value,
    );
  }
}
