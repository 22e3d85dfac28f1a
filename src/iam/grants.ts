// Role grants: a user holds a role in a workspace, for every connector or for one. Standing grants
// last until revoked; elevation grants expire by themselves. Expired or revoked grants never count.
import { sql } from 'kysely';
import { CONNECTOR_ID } from '../egress/index.ts';
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import type { RoleGrantsTable } from '../store/index.ts';
import { requireWorkspace } from './workspaces.ts';
import { recordIam } from './audit.ts';
import type { Grant } from './authorizer.ts';
import { nowOf, type IamContext } from './context.ts';
import { newId } from './ids.ts';
import { checkRole, type Role } from './roles.ts';
import { actorId, getUser } from './users.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface GrantRecord extends Grant {
  readonly id: string;
  readonly userId: string;
  readonly source: 'standing' | 'elevation';
  readonly elevationId: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  /** Null for grants made by hand or by elevation; `oidc:<provider>` for grants sign-in keeps in line. */
  readonly managedBy: string | null;
}

/** A stored grant, as the store declares it. */
type Row = RoleGrantsTable;

function toGrant(row: Row): GrantRecord {
  return {
    id: row.id,
    userId: row.user_id,
    workspace: row.workspace_id,
    role: row.role as Role,
    connector: row.connector,
    source: row.source,
    elevationId: row.elevation_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    managedBy: row.managed_by,
  };
}

/** `*` or a connector id. Throws INPUT_INVALID naming `field`. */
export function checkConnectorScope(value: unknown, field = 'connector'): string {
  if (value === undefined || value === '*') return '*';
  if (typeof value !== 'string' || !CONNECTOR_ID.test(value)) {
    throw new CustosError('INPUT_INVALID', `${field} must be * or a connector id`, {
      details: { field, rule: `* or ${CONNECTOR_ID.source}` },
    });
  }
  return value;
}

export interface AddGrantInput {
  readonly userId: string;
  readonly workspace: string;
  readonly role: unknown;
  readonly connector?: unknown;
  readonly actor: Actor;
  readonly correlationId?: string;
}

/**
 * Grant a standing role; granting a live grant again returns it. A live grant that single sign-on
 * manages becomes the admin's: later sign-ins no longer revoke it. Throws IAM_ROLE_INVALID,
 * IAM_USER_NOT_FOUND, NOT_FOUND.
 */
export async function addGrant(ctx: IamContext, input: AddGrantInput): Promise<GrantRecord> {
  const role = checkRole(input.role);
  const connector = checkConnectorScope(input.connector);
  await getUser(ctx, input.userId);
  await requireWorkspace(ctx.store.db, input.workspace);
  const live = await ctx.store.db
    .selectFrom('role_grants')
    .selectAll()
    .where('user_id', '=', input.userId)
    .where('workspace_id', '=', input.workspace)
    .where('role', '=', role)
    .where('connector', '=', connector)
    .where('source', '=', 'standing')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (live?.managed_by === null) return toGrant(live);
  if (live !== undefined) {
    await ctx.store.db
      .updateTable('role_grants')
      .set({ managed_by: null })
      .where('id', '=', live.id)
      .execute();
    await recordIam(ctx, {
      action: 'iam.grant.create',
      actor: input.actor,
      ledger: input.workspace,
      resource: { kind: 'grant', id: live.id },
      details: { user: input.userId, role, connector, adoptedFrom: live.managed_by },
      ...withCorrelation(input.correlationId),
    });
    return toGrant({ ...live, managed_by: null });
  }
  const row: Row = {
    id: newId('grt'),
    user_id: input.userId,
    workspace_id: input.workspace,
    role,
    connector,
    source: 'standing',
    elevation_id: null,
    created_by: actorId(input.actor),
    created_at: nowOf(ctx),
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
    revoked_by: null,
    managed_by: null,
  };
  await ctx.store.db.insertInto('role_grants').values(row).execute();
  await recordIam(ctx, {
    action: 'iam.grant.create',
    actor: input.actor,
    ledger: input.workspace,
    resource: { kind: 'grant', id: row.id },
    details: { user: input.userId, role, connector },
    ...withCorrelation(input.correlationId),
  });
  return toGrant(row);
}

/** Revoke grants of one workspace in one transaction. Throws IAM_GRANT_NOT_FOUND naming the first unknown id. */
export async function revokeGrants(
  ctx: IamContext,
  workspace: string,
  ids: readonly string[],
  actor: Actor,
  reason: 'revoke' | 'review',
  correlationId?: string,
): Promise<GrantRecord[]> {
  const now = nowOf(ctx);
  const revoked = await ctx.store.db.transaction().execute(async (trx) => {
    const out: GrantRecord[] = [];
    for (const [i, id] of ids.entries()) {
      const row = await trx
        .selectFrom('role_grants')
        .selectAll()
        .where('id', '=', id)
        .where('workspace_id', '=', workspace)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined) {
        throw new CustosError('IAM_GRANT_NOT_FOUND', 'No live grant with this id in the workspace', {
          details: {
            field: ids.length === 1 ? 'grantId' : `grantIds/${i}`,
            rule: 'live grant of this workspace',
          },
        });
      }
      await trx
        .updateTable('role_grants')
        .set({ revoked_at: now, revoked_by: actorId(actor) })
        .where('id', '=', id)
        .execute();
      out.push(toGrant({ ...row, revoked_at: now }));
    }
    return out;
  });
  for (const g of revoked) {
    await recordIam(ctx, {
      action: 'iam.grant.revoke',
      actor,
      ledger: workspace,
      resource: { kind: 'grant', id: g.id },
      details: { user: g.userId, role: g.role, connector: g.connector, reason },
      ...withCorrelation(correlationId),
    });
  }
  return revoked;
}

/** A role in a workspace that something outside Custos (an identity provider) says a user holds. */
export interface ManagedGrant {
  readonly workspace: string;
  readonly role: Role;
  readonly connector: string;
}

export interface SyncManagedGrantsInput {
  readonly userId: string;
  /** Who keeps these grants, e.g. `oidc:corp`; recorded as their creator and revoker. */
  readonly managedBy: string;
  /** Every grant `managedBy` says the user holds now; the rest of its grants are revoked. */
  readonly desired: readonly ManagedGrant[];
  readonly correlationId?: string;
}

const grantKey = (g: { workspace: string; role: string; connector: string }): string =>
  `${g.workspace}\u0000${g.role}\u0000${g.connector}`;

/**
 * Bring the grants `managedBy` keeps for a user in line with `desired`, in one transaction:
 * missing ones are added (unless a live standing grant made by hand already gives the same role),
 * and its grants no longer desired are revoked. Grants made by hand or by elevation are never
 * touched. Records iam.grant.create / iam.grant.revoke (reason `sso`) for each change.
 */
export async function syncManagedGrants(
  ctx: IamContext,
  input: SyncManagedGrantsInput,
): Promise<{ added: GrantRecord[]; revoked: GrantRecord[] }> {
  const now = nowOf(ctx);
  const wanted = new Map(input.desired.map((g) => [grantKey(g), g]));
  const result = await ctx.store.db.transaction().execute(async (trx) => {
    const live = await trx
      .selectFrom('role_grants')
      .selectAll()
      .where('user_id', '=', input.userId)
      .where('source', '=', 'standing')
      .where('revoked_at', 'is', null)
      .execute();
    const held = new Set(live.map((r) => grantKey({ workspace: r.workspace_id, ...r })));
    const revoked: GrantRecord[] = [];
    for (const r of live) {
      if (r.managed_by !== input.managedBy || wanted.has(grantKey({ workspace: r.workspace_id, ...r })))
        continue;
      await trx
        .updateTable('role_grants')
        .set({ revoked_at: now, revoked_by: input.managedBy })
        .where('id', '=', r.id)
        .execute();
      revoked.push(toGrant({ ...r, revoked_at: now, revoked_by: input.managedBy }));
    }
    const added: GrantRecord[] = [];
    for (const [key, g] of wanted) {
      if (held.has(key)) continue;
      const row: Row = {
        id: newId('grt'),
        user_id: input.userId,
        workspace_id: g.workspace,
        role: g.role,
        connector: g.connector,
        source: 'standing',
        elevation_id: null,
        created_by: input.managedBy,
        created_at: now,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
        revoked_by: null,
        managed_by: input.managedBy,
      };
      // A sign-in racing this one may have added the same grant since `live` was read.
      const inserted = await trx
        .insertInto('role_grants')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'workspace_id', 'role', 'connector'])
            // The predicate of the partial unique index, as literal SQL: SQLite matches it textually.
            .where(sql<boolean>`source = 'standing' and revoked_at is null`)
            .doNothing(),
        )
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows !== 0n) added.push(toGrant(row));
    }
    return { added, revoked };
  });
  const actor: Actor = { kind: 'system', id: input.managedBy };
  const changes = [
    ...result.added.map((g) => ['iam.grant.create', g, { managedBy: input.managedBy }] as const),
    ...result.revoked.map((g) => ['iam.grant.revoke', g, { reason: 'sso' }] as const),
  ];
  for (const [action, g, why] of changes) {
    await recordIam(ctx, {
      action,
      actor,
      ledger: g.workspace,
      resource: { kind: 'grant', id: g.id },
      details: { user: g.userId, role: g.role, connector: g.connector, ...why },
      ...withCorrelation(input.correlationId),
    });
  }
  return result;
}

/** Grants of a workspace (live ones unless `all`). */
export async function listGrants(ctx: IamContext, workspace: string, all = false): Promise<GrantRecord[]> {
  let q = ctx.store.db.selectFrom('role_grants').selectAll().where('workspace_id', '=', workspace);
  if (!all) q = q.where('revoked_at', 'is', null);
  const rows = await q.orderBy('created_at').orderBy('id').execute();
  const now = nowOf(ctx);
  return rows.map(toGrant).filter((g) => all || g.expiresAt === null || g.expiresAt > now);
}

/** The grants that count for `userId` now: not revoked, not expired. */
export async function activeGrantsOf(ctx: IamContext, userId: string): Promise<GrantRecord[]> {
  const now = nowOf(ctx);
  const rows = await ctx.store.db
    .selectFrom('role_grants')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.map(toGrant).filter((g) => g.expiresAt === null || g.expiresAt > now);
}

const TOUCH_EVERY_MS = 60 * 60 * 1000;
const touched = new Map<string, number>();

/** Note that grants were used (at most hourly per grant), for access reviews. */
export async function touchGrants(ctx: IamContext, ids: readonly string[]): Promise<void> {
  const nowMs = ctx.clock().getTime();
  const due = ids.filter((id) => (touched.get(id) ?? -Infinity) + TOUCH_EVERY_MS <= nowMs);
  if (due.length === 0) return;
  for (const id of due) touched.set(id, nowMs);
  await ctx.store.db
    .updateTable('role_grants')
    .set({ last_used_at: nowOf(ctx) })
    .where('id', 'in', due)
    .execute();
}
