// Creating and revoking API tokens on behalf of a caller: a personal token never carries a role
// its owner does not hold; admins also mint tokens for service accounts. Audited, shown once.
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import { recordIam } from './audit.ts';
import { laterOf, type IamContext } from './context.ts';
import { activeGrantsOf } from './grants.ts';
import type { Principal } from './principal.ts';
import { checkRole, type Role } from './roles.ts';
import { issueToken, listTokens, revokeToken, type TokenMetadata } from './tokens.ts';
import { actorId, getUser } from './users.ts';
import { isPrintable } from './ids.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface CreateTokenInput {
  readonly caller: Principal;
  readonly workspace: string;
  readonly roles: unknown;
  readonly label: unknown;
  readonly expiresInDays?: unknown;
  readonly ownerId?: string;
  readonly correlationId?: string;
}

function exceeds(rule: string): CustosError {
  return new CustosError('IAM_GRANT_EXCEEDS_CALLER', 'The token would carry roles its owner does not hold', {
    details: { field: 'roles', rule },
  });
}

function checkRoles(value: unknown): Role[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 6) {
    throw new CustosError('IAM_ROLE_INVALID', 'roles must list 1 to 6 roles', {
      details: { field: 'roles', rule: '1..6 roles' },
    });
  }
  return [...new Set(value.map((r, i) => checkRole(r, `roles/${i}`)))];
}

/**
 * Mint a token; the plaintext is returned once. Throws IAM_ROLE_INVALID, INPUT_INVALID,
 * IAM_GRANT_EXCEEDS_CALLER, IAM_USER_NOT_FOUND.
 */
export async function createApiToken(
  ctx: IamContext,
  input: CreateTokenInput,
): Promise<{ token: string; metadata: TokenMetadata }> {
  const roles = checkRoles(input.roles);
  const label = typeof input.label === 'string' ? input.label.trim() : '';
  if (label.length < 1 || label.length > 100 || !isPrintable(label)) {
    throw new CustosError('INPUT_INVALID', 'label must be 1 to 100 printable characters', {
      details: { field: 'label', rule: '1..100 printable characters' },
    });
  }
  const days = input.expiresInDays ?? 90;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > ctx.settings.tokenMaxDays) {
    throw new CustosError('INPUT_INVALID', `expiresInDays must be 1..${ctx.settings.tokenMaxDays}`, {
      details: { field: 'expiresInDays', rule: `integer 1..${ctx.settings.tokenMaxDays}` },
    });
  }
  const { caller, workspace } = input;
  const isAdmin = caller.grants.some(
    (g) => g.workspace === workspace && g.role === 'admin' && g.connector === '*',
  );
  const self = caller.user?.id ?? null;
  const ownerId = input.ownerId ?? self;
  if (ownerId !== self) {
    if (!isAdmin || ownerId === null) throw exceeds('admins alone mint tokens for service accounts');
    const owner = await getUser(ctx, ownerId);
    if (owner.kind !== 'service') throw exceeds('ownerId names a service account');
  }
  if (ownerId !== null) {
    const held = new Set(
      (await activeGrantsOf(ctx, ownerId))
        .filter((g) => g.workspace === workspace && g.source === 'standing')
        .map((g) => g.role),
    );
    const missing = roles.filter((r) => !held.has(r));
    if (missing.length > 0)
      throw exceeds(`roles the owner holds in the workspace (missing: ${missing.join(', ')})`);
  }
  const expiresAt = laterOf(ctx, days * 86_400);
  const { id, token } = await issueToken(ctx.store.db, {
    workspaceId: workspace,
    roles,
    label,
    expiresAt,
    ownerId,
    createdBy: actorId(caller.actor),
  });
  await recordIam(ctx, {
    action: 'iam.token.create',
    actor: caller.actor,
    ledger: workspace,
    resource: { kind: 'token', id },
    details: { roles, owner: ownerId ?? 'installation', expiresAt },
    ...withCorrelation(input.correlationId),
  });
  const metadata = (await listTokens(ctx.store.db, workspace)).find((t) => t.id === id);
  if (metadata === undefined) throw new CustosError('INTERNAL', 'Token was not stored');
  return { token, metadata };
}

/** Revoke a token and record it. Throws IAM_TOKEN_NOT_FOUND. */
export async function revokeApiToken(
  ctx: IamContext,
  input: { workspace: string; id: string; actor: Actor; correlationId?: string },
): Promise<void> {
  await revokeToken(ctx.store.db, input.workspace, input.id, ctx.clock().toISOString());
  await recordIam(ctx, {
    action: 'iam.token.revoke',
    actor: input.actor,
    ledger: input.workspace,
    resource: { kind: 'token', id: input.id },
    ...withCorrelation(input.correlationId),
  });
}
