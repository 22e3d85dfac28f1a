// The authorization check every route and API-backed CLI command passes: a Cedar request built
// from the principal's grants, the action's place in the catalog and the request's attributes.
// Deny by default; an evaluation error is a deny.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CustosError } from '../errors/index.ts';
import type { ActionSpec } from './actions.ts';
import { NS, POLICIES } from './policy.ts';
import type { Role } from './roles.ts';

export interface Grant {
  readonly workspace: string;
  readonly role: Role;
  /** `*` for every connector, or one connector id. */
  readonly connector: string;
}

export interface AuthzPrincipal {
  /** `local-operator`: whoever runs the CLI against the data directory without a token. */
  readonly kind: 'user' | 'service' | 'token' | 'local-operator';
  readonly id: string;
  readonly grants: readonly Grant[];
  readonly mfaRequired: boolean;
  readonly disabled?: boolean;
}

export type Classification = 'public' | 'internal' | 'confidential' | 'restricted' | 'none';

export interface AuthzContext {
  /** `local`: a CLI command run against the data directory by the local operator. */
  readonly authKind: 'session' | 'token' | 'local';
  readonly mfa: boolean;
  /** `dev`, `staging`, `prod` or `none`. */
  readonly environment?: string;
  readonly classification?: Classification;
  /** The declared purpose of access; empty when none was given. */
  readonly purpose?: string;
}

export interface AuthzRequest {
  readonly principal: AuthzPrincipal;
  readonly action: string;
  readonly spec: ActionSpec;
  /** The workspace the resource belongs to, or `*` for installation-wide resources. */
  readonly workspace: string;
  readonly connector?: string;
  readonly context: AuthzContext;
}

export interface AuthzDecision {
  readonly allowed: boolean;
  /** Ids of the policies that determined the decision (permits when allowed, forbids when denied). */
  readonly policies: readonly string[];
}

const POLICY_SET_ID = 'custos-v1';
let prepared = false;

function prepare(): void {
  if (prepared) return;
  const answer = cedar.preparsePolicySet(POLICY_SET_ID, { staticPolicies: { ...POLICIES } });
  if (answer.type !== 'success') {
    throw new CustosError('INTERNAL', 'Access policy set does not parse', {
      details: { rule: answer.errors.map((e) => e.message).join('; ') },
    });
  }
  prepared = true;
}

function uid(type: string, id: string): { type: string; id: string } {
  return { type: `${NS}::${type}`, id };
}

function actionParents(spec: ActionSpec): { type: string; id: string }[] {
  const groups = spec.roles === 'self' ? ['group/self'] : spec.roles.map((r) => `role/${r}`);
  if (spec.write) groups.push('trait/write');
  if (spec.readsData === true) groups.push('trait/reads-data');
  return groups.map((g) => uid('Action', g));
}

/** Evaluate one request against the policy set. Never throws for a deny; errors deny. */
export function authorize(request: AuthzRequest): AuthzDecision {
  prepare();
  const { principal, spec, context } = request;
  const principalUid = uid('Principal', `${principal.kind}:${principal.id}`);
  const connector = request.connector ?? '*';
  const resourceUid = uid('Resource', `${request.workspace}/${connector}`);
  const actionUid = uid('Action', request.action);
  const answer = cedar.statefulIsAuthorized({
    principal: principalUid,
    action: actionUid,
    resource: resourceUid,
    context: {
      authKind: context.authKind,
      mfa: context.mfa,
      environment: context.environment ?? 'none',
      classification: context.classification ?? 'none',
      purpose: context.purpose ?? '',
    },
    preparsedPolicySetId: POLICY_SET_ID,
    entities: [
      {
        uid: principalUid,
        attrs: {
          kind: principal.kind,
          grants: principal.grants.map((g) => ({
            workspace: g.workspace,
            role: g.role,
            connector: g.connector,
          })),
          roles: [...new Set(principal.grants.map((g) => g.role))],
          mfaRequired: principal.mfaRequired,
          disabled: principal.disabled === true,
        },
        parents: [],
      },
      { uid: actionUid, attrs: {}, parents: actionParents(spec) },
      { uid: resourceUid, attrs: { workspace: request.workspace, connector }, parents: [] },
    ],
  });
  if (answer.type !== 'success') return { allowed: false, policies: ['evaluation-error'] };
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0 && decision === 'allow')
    return { allowed: false, policies: ['evaluation-error'] };
  return {
    allowed: decision === 'allow',
    policies: diagnostics.reason.length > 0 ? diagnostics.reason : ['default-deny'],
  };
}
