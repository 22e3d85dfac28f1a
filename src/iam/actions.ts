// The catalog of authorization actions: which roles each action is granted to, whether it changes
// state, and whether it reads classified data. Cedar evaluates requests against this catalog (as
// the action hierarchy) and the policy set in policy.ts; docs/access.md documents the result.
import type { Role } from './roles.ts';

export interface ActionSpec {
  /** Roles whose grant permits the action, or `self` for what any signed-in principal may do to itself. */
  readonly roles: readonly Role[] | 'self';
  /** `installation`: not tied to one workspace (a grant in any workspace counts). */
  readonly scope: 'installation' | 'workspace';
  /** Changes state: production changes need a release role (policy `production-changes`). */
  readonly write: boolean;
  /** Reads decrypted classified data: needs a declared purpose (policy `classified-needs-purpose`). */
  readonly readsData?: boolean;
}

const ALL: readonly Role[] = ['builder', 'reviewer', 'publisher', 'admin', 'auditor', 'operator'];
const ADMIN: readonly Role[] = ['admin'];
const OVERSIGHT: readonly Role[] = ['admin', 'auditor'];
const RUN_READERS: readonly Role[] = ['admin', 'operator', 'auditor', 'builder'];
const OPERATIONS: readonly Role[] = ['admin', 'operator'];

function a(roles: ActionSpec['roles'], scope: ActionSpec['scope'], write: boolean): ActionSpec {
  return { roles, scope, write };
}

export const ACTIONS = {
  'api.describe': a(ALL, 'installation', false),
  'role.list': a(ALL, 'installation', false),
  'session.read': a('self', 'installation', false),
  'session.end': a('self', 'installation', true),
  'mfa.totp.enroll': a('self', 'installation', true),
  'mfa.totp.verify': a('self', 'installation', true),
  'mfa.webauthn.register': a('self', 'installation', true),
  'mfa.webauthn.verify': a('self', 'installation', true),
  'password.change': a('self', 'installation', true),
  'user.list': a(OVERSIGHT, 'installation', false),
  'user.read': a(OVERSIGHT, 'installation', false),
  'user.create': a(ADMIN, 'installation', true),
  'user.disable': a(ADMIN, 'installation', true),
  'user.enable': a(ADMIN, 'installation', true),
  'user.sessions.revoke': a(ADMIN, 'installation', true),
  'user.mfa.reset': a(ADMIN, 'installation', true),
  'oidc.provider.list': a(OVERSIGHT, 'installation', false),
  'oidc.provider.set': a(ADMIN, 'installation', true),
  'workspace.list': a(ALL, 'installation', false),
  'workspace.create': a(ADMIN, 'installation', true),
  'workspace.read': a(ALL, 'workspace', false),
  'grant.list': a(OVERSIGHT, 'workspace', false),
  'grant.create': a(ADMIN, 'workspace', true),
  'grant.revoke': a(ADMIN, 'workspace', true),
  'token.list': a(OVERSIGHT, 'workspace', false),
  'token.create': a(ALL, 'workspace', true),
  'token.revoke': a(ADMIN, 'workspace', true),
  'elevation.request': a(ALL, 'workspace', true),
  'elevation.list': a(OVERSIGHT, 'workspace', false),
  'elevation.decide': a(ADMIN, 'workspace', true),
  'access.review': a(OVERSIGHT, 'workspace', false),
  'access.revoke': a(ADMIN, 'workspace', true),
  'key.list': a(OVERSIGHT, 'workspace', false),
  'key.rotate': a(ADMIN, 'workspace', true),
  'secret.list': a(['admin', 'builder', 'operator', 'auditor'], 'workspace', false),
  'secret.write': a(ADMIN, 'workspace', true),
  'export.definition.list': a(OVERSIGHT, 'workspace', false),
  'export.create': a(ADMIN, 'workspace', true),
  'export.archive.read': a(OVERSIGHT, 'workspace', false),
  'export.job.read': a(OVERSIGHT, 'workspace', false),
  'export.download': a(OVERSIGHT, 'workspace', false),
  'workflow.list': a(ALL, 'workspace', false),
  'workflow.read': a(ALL, 'workspace', false),
  'workflow.deploy': a(ADMIN, 'workspace', true),
  'run.start': a(['admin', 'operator', 'builder'], 'workspace', true),
  'run.list': a(RUN_READERS, 'workspace', false),
  'run.read': a(RUN_READERS, 'workspace', false),
  'run.cancel': a(OPERATIONS, 'workspace', true),
  'run.retry': a(OPERATIONS, 'workspace', true),
  'run.approve': a(['reviewer', 'admin'], 'workspace', true),
  'killswitch.list': a(['admin', 'operator', 'auditor'], 'workspace', false),
  'killswitch.set': a(ADMIN, 'workspace', true),
  'record.read': a(['admin', 'operator', 'auditor', 'builder'], 'workspace', false),
  'record.reveal': { roles: ['admin', 'operator'], scope: 'workspace', write: false, readsData: true },
  'record.import': a(['admin', 'operator'], 'workspace', true),
  'metrics.read': a(['admin', 'operator', 'auditor'], 'installation', false),
  'ledger.read': a(OVERSIGHT, 'workspace', false),
  'key.rewrap': a(OPERATIONS, 'workspace', true),
  'key.destroy': a(ADMIN, 'workspace', true),
  'subject.shred': a(ADMIN, 'workspace', true),
  'privacy.mask': a(['admin', 'operator', 'builder'], 'workspace', false),
  'export.definition.write': a(ADMIN, 'workspace', true),
  'export.reveal': { roles: ADMIN, scope: 'workspace', write: true, readsData: true },
  'export.key.read': a(ALL, 'workspace', false),
  'export.key.manage': a(ADMIN, 'workspace', true),
  'archive.hold': a(ADMIN, 'workspace', true),
  'export.deliver': a(ADMIN, 'workspace', true),
  'export.verify': a(OVERSIGHT, 'workspace', false),
  'archive.delete': a(ADMIN, 'workspace', true),
  'archive.scrub': a(OPERATIONS, 'workspace', true),
  'ledger.record': a(ADMIN, 'workspace', true),
} as const satisfies Record<string, ActionSpec>;

export type ActionName = keyof typeof ACTIONS;

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(ACTIONS, name);
}
