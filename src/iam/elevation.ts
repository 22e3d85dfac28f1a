// Just-in-time elevation: a user asks for a role in a workspace for a while and says why; another
// admin approves or denies; an approved role is a grant that expires by itself. Every step is a
// ledger event in the workspace ledger.
import { CustosError } from '../errors/index.ts';
import { withCorrelation, type Actor } from '../ledger/index.ts';
import type { ElevationsTable } from '../store/index.ts';
import { recordIam } from './audit.ts';
import { laterOf, nowOf, type IamContext } from './context.ts';
import { isPrintable, newId } from './ids.ts';
import { checkRole, type Role } from './roles.ts';
import { actorId } from './users.ts';
import { requireWorkspace } from './workspaces.ts';

export type ElevationState = 'pending' | 'approved' | 'denied' | 'expired';

export interface Elevation {
  readonly id: string;
  readonly userId: string;
  readonly workspace: string;
  readonly role: Role;
  readonly durationSeconds: number;
  readonly reason: string;
  readonly state: ElevationState;
  readonly requestedAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly expiresAt: string | null;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parse `90s`, `30m`, `1h`, `1h30m`; throws IAM_ELEVATION_INVALID naming `field`. */
export function parseDuration(text: unknown, maxSeconds: number, field = 'duration'): number {
  const bad = (): CustosError =>
    new CustosError(
      'IAM_ELEVATION_INVALID',
      `${field} must be a duration such as 30m or 1h, at most ${maxSeconds}s`,
      {
        details: { field, rule: `([0-9]+[smhd])+ between 60s and ${maxSeconds}s` },
      },
    );
  if (typeof text !== 'string' || !/^(\d{1,5}[smhd]){1,4}$/.test(text)) throw bad();
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * (UNITS[unit ?? 's'] ?? 1);
  if (seconds < 60 || seconds > maxSeconds) throw bad();
  return seconds;
}

/** A stored elevation request, as the store declares it. */
type Row = ElevationsTable;

function toElevation(r: Row): Elevation {
  return {
    id: r.id,
    userId: r.user_id,
    workspace: r.workspace_id,
    role: r.role as Role,
    durationSeconds: r.duration_seconds,
    reason: r.reason,
    state: r.state,
    requestedAt: r.requested_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    expiresAt: r.expires_at,
  };
}

export interface ElevationRequest {
  readonly actor: Actor;
  readonly workspace: string;
  readonly role: unknown;
  readonly duration: unknown;
  readonly reason: unknown;
  readonly correlationId?: string;
}

/** Ask for a role. Only people ask (not tokens without an owner, not service accounts). Throws IAM_ELEVATION_INVALID, IAM_ROLE_INVALID. */
export async function requestElevation(ctx: IamContext, input: ElevationRequest): Promise<Elevation> {
  if (input.actor.kind !== 'user') {
    throw new CustosError('IAM_ELEVATION_INVALID', 'Only a person can ask for elevation', {
      details: { field: 'authorization', rule: 'a user session or a token owned by a user' },
    });
  }
  const role = checkRole(input.role);
  const durationSeconds = parseDuration(input.duration, ctx.settings.elevationMaxSeconds);
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason.length < 3 || reason.length > 500 || !isPrintable(reason)) {
    throw new CustosError('IAM_ELEVATION_INVALID', 'reason must say why, in 3 to 500 printable characters', {
      details: { field: 'reason', rule: '3..500 printable characters' },
    });
  }
  await requireWorkspace(ctx.store.db, input.workspace);
  const row: Row = {
    id: newId('elv'),
    user_id: input.actor.id,
    workspace_id: input.workspace,
    role,
    duration_seconds: durationSeconds,
    reason,
    state: 'pending',
    requested_at: nowOf(ctx),
    decided_by: null,
    decided_at: null,
    expires_at: null,
    grant_id: null,
  };
  await ctx.store.db.insertInto('elevations').values(row).execute();
  await recordIam(ctx, {
    action: 'iam.elevation.request',
    actor: input.actor,
    ledger: input.workspace,
    resource: { kind: 'elevation', id: row.id },
    details: { role, durationSeconds, reason },
    ...withCorrelation(input.correlationId),
  });
  return toElevation(row);
}

/**
 * Approve or deny a pending request; approval creates a grant that expires after the duration.
 * Throws IAM_ELEVATION_NOT_FOUND, IAM_ELEVATION_SELF_APPROVAL, IAM_ELEVATION_NOT_PENDING.
 */
export async function decideElevation(
  ctx: IamContext,
  input: { workspace: string; id: string; approve: boolean; actor: Actor; correlationId?: string },
): Promise<Elevation> {
  const now = nowOf(ctx);
  const decided = await ctx.store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('elevations')
      .selectAll()
      .where('id', '=', input.id)
      .where('workspace_id', '=', input.workspace)
      .$if(ctx.store.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    if (row === undefined) {
      throw new CustosError('IAM_ELEVATION_NOT_FOUND', 'No such elevation request in this workspace', {
        details: { field: 'elevationId', rule: 'existing request' },
      });
    }
    if (input.actor.id === row.user_id) {
      throw new CustosError('IAM_ELEVATION_SELF_APPROVAL', 'Another admin must decide on this request', {
        details: { field: 'elevationId', rule: 'decider differs from requester' },
      });
    }
    if (row.state !== 'pending') {
      throw new CustosError('IAM_ELEVATION_NOT_PENDING', `The request is already ${row.state}`, {
        details: { field: 'elevationId', rule: 'pending request' },
      });
    }
    const expiresAt = input.approve ? laterOf(ctx, row.duration_seconds) : null;
    const grantId = input.approve ? newId('grt') : null;
    if (grantId !== null) {
      await trx
        .insertInto('role_grants')
        .values({
          id: grantId,
          user_id: row.user_id,
          workspace_id: row.workspace_id,
          role: row.role,
          connector: '*',
          source: 'elevation',
          elevation_id: row.id,
          created_by: actorId(input.actor),
          created_at: now,
          expires_at: expiresAt,
          last_used_at: null,
          revoked_at: null,
          revoked_by: null,
        })
        .execute();
    }
    const next = {
      state: (input.approve ? 'approved' : 'denied') as ElevationState,
      decided_by: actorId(input.actor),
      decided_at: now,
      expires_at: expiresAt,
      grant_id: grantId,
    };
    await trx.updateTable('elevations').set(next).where('id', '=', row.id).execute();
    return { ...row, ...next };
  });
  await recordIam(ctx, {
    action: input.approve ? 'iam.elevation.approve' : 'iam.elevation.deny',
    actor: input.actor,
    ledger: input.workspace,
    resource: { kind: 'elevation', id: decided.id },
    details: {
      user: decided.user_id,
      role: decided.role,
      ...(decided.expires_at === null ? {} : { expiresAt: decided.expires_at }),
      ...(decided.grant_id === null ? {} : { grant: decided.grant_id }),
    },
    ...withCorrelation(input.correlationId),
  });
  return toElevation(decided);
}

export async function listElevations(ctx: IamContext, workspace: string): Promise<Elevation[]> {
  await expireElevations(ctx);
  const rows = await ctx.store.db
    .selectFrom('elevations')
    .selectAll()
    .where('workspace_id', '=', workspace)
    .orderBy('requested_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toElevation);
}

const SYSTEM: Actor = { kind: 'system', id: 'iam' };

/**
 * Mark approved elevations past their deadline as expired and record it. The grant stopped
 * counting at its deadline already; this makes the end visible in the ledger.
 */
export async function expireElevations(ctx: IamContext): Promise<number> {
  const now = nowOf(ctx);
  const due = await ctx.store.db
    .selectFrom('elevations')
    .selectAll()
    .where('state', '=', 'approved')
    .where('expires_at', '<=', now)
    .execute();
  let n = 0;
  for (const row of due) {
    const r = await ctx.store.db
      .updateTable('elevations')
      .set({ state: 'expired' })
      .where('id', '=', row.id)
      .where('state', '=', 'approved')
      .executeTakeFirst();
    if (r.numUpdatedRows === 0n) continue;
    n++;
    await recordIam(ctx, {
      action: 'iam.elevation.expire',
      actor: SYSTEM,
      ledger: row.workspace_id,
      resource: { kind: 'elevation', id: row.id },
      details: {
        user: row.user_id,
        role: row.role,
        ...(row.grant_id === null ? {} : { grant: row.grant_id }),
      },
    });
  }
  return n;
}
