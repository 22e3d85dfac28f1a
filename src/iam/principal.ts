// Who is calling: a bearer token or a session cookie resolved to a principal with the grants that
// count right now (revocation, expiry and disabling take effect on the next request).
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import type { AuthzPrincipal, Grant } from './authorizer.ts';
import { nowOf, type IamContext } from './context.ts';
import { activeGrantsOf, type GrantRecord } from './grants.ts';
import { MFA_ROLES } from './roles.ts';
import { resolveSession, type Session } from './sessions.ts';
import { verifyToken, type TokenIdentity } from './tokens.ts';
import { getUser, type User } from './users.ts';

export interface Principal extends AuthzPrincipal {
  readonly via: 'session' | 'token';
  readonly actor: Actor;
  /** Whether a second factor was verified for this session (always false for tokens). */
  readonly mfa: boolean;
  readonly user?: User;
  readonly session?: Session;
  readonly token?: TokenIdentity;
  /** Grant rows behind `grants`, for usage tracking. */
  readonly grantRecords: readonly GrantRecord[];
}

function tokenInvalid(): CustosError {
  return new CustosError('IAM_TOKEN_INVALID', 'A valid bearer token is required', {
    details: { field: 'authorization', rule: 'live API token' },
  });
}

/** Throws IAM_TOKEN_INVALID for an unknown, expired or revoked token or a disabled owner. */
export async function principalFromToken(ctx: IamContext, presented: string): Promise<Principal> {
  const token = await verifyToken(ctx.store.db, presented, nowOf(ctx));
  if (token === undefined) throw tokenInvalid();
  if (token.ownerId === null) {
    const grants: Grant[] = token.roles.map((role) => ({
      workspace: token.workspaceId,
      role,
      connector: '*',
    }));
    return {
      kind: 'token',
      id: token.tokenId,
      via: 'token',
      actor: { kind: 'token', id: token.tokenId },
      mfa: false,
      mfaRequired: false,
      grants,
      grantRecords: [],
      token,
    };
  }
  const owner = await getUser(ctx, token.ownerId).catch(() => undefined);
  if (owner?.status !== 'active') throw tokenInvalid();
  // Never more than the owner holds now in the token's workspace; elevations of the owner count.
  const records = (await activeGrantsOf(ctx, owner.id)).filter(
    (g) => g.workspace === token.workspaceId && (g.source === 'elevation' || token.roles.includes(g.role)),
  );
  return {
    kind: owner.kind,
    id: owner.id,
    via: 'token',
    actor: { kind: owner.kind, id: owner.id },
    mfa: false,
    mfaRequired: false,
    grants: records,
    grantRecords: records,
    user: owner,
    token,
  };
}

/** Throws IAM_SESSION_INVALID for a missing, expired or revoked session or a disabled user. */
export async function principalFromSession(ctx: IamContext, cookie: string): Promise<Principal> {
  const session = await resolveSession(ctx, cookie);
  const user = await getUser(ctx, session.userId).catch(() => undefined);
  if (user?.status !== 'active') {
    throw new CustosError('IAM_SESSION_INVALID', 'Session is missing, expired or revoked; sign in again', {
      details: { field: 'cookie', rule: 'active user' },
    });
  }
  const records = await activeGrantsOf(ctx, user.id);
  const active = session.stage === 'active';
  return {
    kind: user.kind,
    id: user.id,
    via: 'session',
    actor: { kind: user.kind, id: user.id },
    mfa: active && session.mfaMethod !== null,
    mfaRequired: !active || records.some((g) => MFA_ROLES.includes(g.role)),
    // A session still completing its second factor holds no role at all.
    grants: active ? records : [],
    grantRecords: active ? records : [],
    user,
    session,
  };
}
