// Access reviews: standing grants and API tokens of a workspace not used for N days, and their
// revocation in one step (one transaction), each revocation a ledger event.
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import { recordIam } from './audit.ts';
import { nowOf, type IamContext } from './context.ts';
import { listGrants, type GrantRecord } from './grants.ts';
import { listTokens, type TokenMetadata } from './tokens.ts';
import { actorId } from './users.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface AccessReview {
  readonly workspace: string;
  readonly unusedDays: number;
  /** Grants and tokens unused (or never used) since this time. */
  readonly cutoff: string;
  readonly grants: readonly GrantRecord[];
  readonly tokens: readonly TokenMetadata[];
}

/** Throws INPUT_INVALID unless `days` is an integer 0..3650. */
export function checkUnusedDays(days: unknown, field = 'unusedDays'): number {
  const n = typeof days === 'string' && /^\d{1,4}$/.test(days) ? Number(days) : days;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 3650) {
    throw new CustosError('INPUT_INVALID', `${field} must be a whole number of days (0..3650)`, {
      details: { field, rule: 'integer 0..3650' },
    });
  }
  return n;
}

export async function accessReview(
  ctx: IamContext,
  workspace: string,
  unusedDays: number,
): Promise<AccessReview> {
  const cutoff = new Date(ctx.clock().getTime() - unusedDays * 86_400_000).toISOString();
  const now = nowOf(ctx);
  const grants = (await listGrants(ctx, workspace)).filter(
    (g) => g.source === 'standing' && (g.lastUsedAt ?? g.createdAt) <= cutoff,
  );
  const tokens = (await listTokens(ctx.store.db, workspace)).filter(
    (t) =>
      t.revokedAt === null &&
      (t.expiresAt === null || t.expiresAt > now) &&
      (t.lastUsedAt ?? t.createdAt) <= cutoff,
  );
  return { workspace, unusedDays, cutoff, grants, tokens };
}

/**
 * Revoke the listed grants and tokens of a workspace together: all or nothing.
 * Throws IAM_GRANT_NOT_FOUND / IAM_TOKEN_NOT_FOUND naming the first unknown id.
 */
export async function revokeAccess(
  ctx: IamContext,
  input: {
    workspace: string;
    grantIds: readonly string[];
    tokenIds: readonly string[];
    actor: Actor;
    correlationId?: string;
  },
): Promise<{ grants: number; tokens: number }> {
  const now = nowOf(ctx);
  const by = actorId(input.actor);
  const revoked = await ctx.store.db.transaction().execute(async (trx) => {
    const grants: { id: string; user: string; role: string }[] = [];
    for (const [i, id] of input.grantIds.entries()) {
      const row = await trx
        .selectFrom('role_grants')
        .select(['id', 'user_id', 'role'])
        .where('id', '=', id)
        .where('workspace_id', '=', input.workspace)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined) {
        throw new CustosError('IAM_GRANT_NOT_FOUND', 'No live grant with this id in the workspace', {
          details: { field: `grantIds/${i}`, rule: 'live grant of this workspace' },
        });
      }
      await trx
        .updateTable('role_grants')
        .set({ revoked_at: now, revoked_by: by })
        .where('id', '=', id)
        .execute();
      grants.push({ id, user: row.user_id, role: row.role });
    }
    for (const [i, id] of input.tokenIds.entries()) {
      const r = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('workspace_id', '=', input.workspace)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (r.numUpdatedRows === 0n) {
        throw new CustosError('IAM_TOKEN_NOT_FOUND', 'No live token with this id in the workspace', {
          details: { field: `tokenIds/${i}`, rule: 'live token of this workspace' },
        });
      }
    }
    return grants;
  });
  const common = {
    actor: input.actor,
    ledger: input.workspace,
    ...withCorrelation(input.correlationId),
  };
  for (const g of revoked) {
    await recordIam(ctx, {
      ...common,
      action: 'iam.grant.revoke',
      resource: { kind: 'grant', id: g.id },
      details: { user: g.user, role: g.role, reason: 'access-review' },
    });
  }
  for (const id of input.tokenIds) {
    await recordIam(ctx, {
      ...common,
      action: 'iam.token.revoke',
      resource: { kind: 'token', id },
      details: { reason: 'access-review' },
    });
  }
  return { grants: revoked.length, tokens: input.tokenIds.length };
}
