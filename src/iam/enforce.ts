// The one place a Cedar decision is enforced, for API requests and CLI commands alike: evaluate,
// and on a denial record `iam.access.denied` (the policies that decided, the caller, the request's
// correlation id) and throw IAM_ACCESS_DENIED naming the credential and the action.
import { CustosError } from '../errors/index.ts';
import type { Actor, ResourceRef } from '../ledger/index.ts';
import type { ActionSpec } from './actions.ts';
import { recordIam } from './audit.ts';
import { authorize, type AuthzContext, type AuthzDecision, type AuthzPrincipal } from './authorizer.ts';
import type { IamContext } from './context.ts';
import { touchGrants } from './grants.ts';
import type { Principal } from './principal.ts';
import { touchToken } from './tokens.ts';

export interface EnforceInput {
  readonly principal: AuthzPrincipal;
  readonly actor: Actor;
  readonly action: string;
  readonly spec: ActionSpec;
  /** A workspace id, or `*` for installation-wide actions (then the spec is installation-scoped). */
  readonly workspace: string;
  readonly connector?: string;
  readonly context: AuthzContext;
  /** What was asked for: a route (`GET /api/…`) or a command (`keys rotate`). */
  readonly resource: ResourceRef;
  readonly correlationId: string;
  /** The credential a denial names: `authorization`, `CUSTOS_TOKEN`, `iam.localOperatorRoles`. */
  readonly credentialField: string;
}

/** Decide; a denial is recorded in the ledger and thrown as IAM_ACCESS_DENIED (403). */
export async function enforce(ctx: IamContext, input: EnforceInput): Promise<AuthzDecision> {
  const installation = input.workspace === '*';
  const decision = authorize({
    principal: input.principal,
    action: input.action,
    spec: installation ? { ...input.spec, scope: 'installation' } : input.spec,
    workspace: input.workspace,
    ...(input.connector === undefined ? {} : { connector: input.connector }),
    context: input.context,
  });
  if (decision.allowed) return decision;
  await recordIam(ctx, {
    action: 'iam.access.denied',
    actor: input.actor,
    ledger: installation ? 'system' : input.workspace,
    resource: input.resource,
    outcome: 'denied',
    correlationId: input.correlationId,
    ...(input.context.purpose === undefined ? {} : { purpose: input.context.purpose }),
    details: { action: input.action, policies: [...decision.policies], via: input.context.authKind },
  });
  // Name what decided: a forbid policy (e.g. classified-needs-purpose), or no permit at all. The
  // policy set is public (docs/access.md), so this tells the caller nothing it could not know.
  const why = decision.policies.includes('default-deny')
    ? 'no role grants it'
    : `policy ${decision.policies.join(', ')}`;
  throw new CustosError('IAM_ACCESS_DENIED', 'The access policy denies this request', {
    details: {
      field: input.credentialField,
      rule: `action ${input.action} on ${installation ? 'the installation' : `workspace ${input.workspace}`} (${why})`,
      policies: [...decision.policies],
    },
  });
}

/**
 * Note that `principal` just used the grants that `decision` rests on (and its token), so access
 * reviews see them as used. Cheap: each is written at most hourly.
 */
export async function noteUse(
  ctx: IamContext,
  principal: Principal,
  decision: AuthzDecision,
  workspace: string,
): Promise<void> {
  const roles = new Set(decision.policies.filter((p) => p.startsWith('role-')).map((p) => p.slice(5)));
  const used = principal.grantRecords
    .filter((g) => roles.has(g.role) && (workspace === '*' || g.workspace === workspace))
    .map((g) => g.id);
  await touchGrants(ctx, used);
  if (principal.token !== undefined) await touchToken(ctx.store.db, principal.token.tokenId, ctx.clock());
}
