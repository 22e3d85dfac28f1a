// The Cedar policy set: deny by default, role grants bound to a workspace and optionally one
// connector, installation-wide actions, MFA for privileged sessions, production changes only by
// release roles, a purpose for classified reads, disabled principals.
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  authorize,
  policyText,
  type ActionSpec,
  type AuthzPrincipal,
  type AuthzRequest,
  type Grant,
} from '../../src/iam/index.ts';

function principal(grants: Grant[], extra: Partial<AuthzPrincipal> = {}): AuthzPrincipal {
  return { kind: 'user', id: 'usr_1', grants, mfaRequired: false, ...extra };
}

function ask(
  p: AuthzPrincipal,
  action: keyof typeof ACTIONS,
  workspace: string,
  extra: Partial<AuthzRequest> = {},
) {
  return authorize({
    principal: p,
    action,
    spec: ACTIONS[action],
    workspace,
    context: { authKind: 'token', mfa: false },
    ...extra,
  });
}

const g = (workspace: string, role: Grant['role'], connector = '*'): Grant => ({
  workspace,
  role,
  connector,
});

describe('Cedar authorization', () => {
  it('denies by default: no grant, no permit', () => {
    const d = ask(principal([]), 'secret.list', 'default');
    expect(d).toEqual({ allowed: false, policies: ['default-deny'] });
  });

  it('permits a role in the workspace of its grant only', () => {
    const builder = principal([g('default', 'builder')]);
    expect(ask(builder, 'secret.list', 'default')).toEqual({ allowed: true, policies: ['role-builder'] });
    expect(ask(builder, 'secret.list', 'other').allowed).toBe(false);
    expect(ask(builder, 'secret.write', 'default').allowed).toBe(false);
  });

  it('binds a connector-scoped grant to that connector', () => {
    const crmAdmin = principal([g('default', 'admin', 'crm')]);
    expect(ask(crmAdmin, 'secret.write', 'default', { connector: 'crm' }).allowed).toBe(true);
    expect(ask(crmAdmin, 'secret.write', 'default', { connector: 'billing' }).allowed).toBe(false);
    expect(ask(crmAdmin, 'secret.write', 'default').allowed).toBe(false);
  });

  it('counts a grant in any workspace for installation-wide actions', () => {
    expect(ask(principal([g('team-a', 'admin')]), 'user.create', '*').allowed).toBe(true);
    expect(ask(principal([g('team-a', 'builder')]), 'user.create', '*').allowed).toBe(false);
  });

  it('requires a verified second factor for sessions of admins and publishers, except to finish sign-in', () => {
    const admin = principal([g('default', 'admin')], { mfaRequired: true });
    const session = { authKind: 'session' as const, mfa: false };
    expect(ask(admin, 'user.list', '*', { context: session })).toEqual({
      allowed: false,
      policies: ['mfa-for-privileged-roles'],
    });
    expect(ask(admin, 'user.list', '*', { context: { ...session, mfa: true } }).allowed).toBe(true);
    expect(ask(admin, 'mfa.totp.verify', '*', { context: session }).allowed).toBe(true);
  });

  it('lets only release roles change production', () => {
    const spec: ActionSpec = { roles: ['builder', 'publisher'], scope: 'workspace', write: true };
    const req = (p: AuthzPrincipal, environment: string) =>
      authorize({
        principal: p,
        action: 'route:POST /x',
        spec,
        workspace: 'default',
        context: { authKind: 'token', mfa: false, environment },
      });
    expect(req(principal([g('default', 'builder')]), 'dev').allowed).toBe(true);
    expect(req(principal([g('default', 'builder')]), 'prod')).toEqual({
      allowed: false,
      policies: ['production-changes'],
    });
    expect(req(principal([g('default', 'publisher')]), 'prod').allowed).toBe(true);
  });

  it('reads classified data only for a declared purpose', () => {
    const spec: ActionSpec = { roles: ['operator'], scope: 'workspace', write: false, readsData: true };
    const req = (classification: 'restricted' | 'internal', purpose?: string) =>
      authorize({
        principal: principal([g('default', 'operator')]),
        action: 'record.read',
        spec,
        workspace: 'default',
        context: {
          authKind: 'token',
          mfa: false,
          classification,
          ...(purpose === undefined ? {} : { purpose }),
        },
      });
    expect(req('internal').allowed).toBe(true);
    expect(req('restricted')).toEqual({ allowed: false, policies: ['classified-needs-purpose'] });
    expect(req('restricted', 'incident-4711').allowed).toBe(true);
  });

  it('denies everything to a disabled principal', () => {
    expect(ask(principal([g('default', 'admin')], { disabled: true }), 'user.list', '*').allowed).toBe(false);
  });

  it('documents the policy set as Cedar text with an id per policy', () => {
    const text = policyText();
    for (const id of [
      'role-admin',
      'self-service',
      'mfa-for-privileged-roles',
      'production-changes',
      'classified-needs-purpose',
    ]) {
      expect(text).toContain(`@id("${id}")`);
    }
  });
});
