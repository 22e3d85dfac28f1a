// Role grants: a user holds a role in a workspace, for every connector or for one. Standing grants
// last until revoked; elevation grants expire by themselves. Expired or revoked grants never count.
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

/** Grant a standing role; granting a live grant again returns it. Throws IAM_ROLE_INVALID, IAM_USER_NOT_FOUND, NOT_FOUND. */
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
  if (live !== undefined) return toGrant(live);
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
