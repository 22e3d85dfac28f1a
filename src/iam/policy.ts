// The Cedar policy set: one permit per role, bound to the workspace (and optionally one connector)
// of the grant, a permit for self-service, and forbids for attribute conditions. Anything not
// permitted is denied (Cedar's default).
import { ROLES, type Role } from './roles.ts';

/** Cedar namespace of every entity type and action. */
export const NS = 'Custos';

function rolePolicy(role: Role): string {
  return `permit (principal, action in ${NS}::Action::"role/${role}", resource)
when {
  principal.grants.contains({ workspace: resource.workspace, role: "${role}", connector: "*" }) ||
  principal.grants.contains({ workspace: resource.workspace, role: "${role}", connector: resource.connector }) ||
  (resource.workspace == "*" && principal.roles.contains("${role}"))
};`;
}

const ANY_RELEASE_ROLE = ['publisher', 'admin', 'operator']
  .map((r) => `principal.grants.contains({ workspace: resource.workspace, role: "${r}", connector: "*" })`)
  .join(' ||\n  ');

/** Policy id → Cedar text. Ids appear in decisions and in denied-request ledger events. */
export const POLICIES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(ROLES.map((r) => [`role-${r}`, rolePolicy(r)])),
  // What any authenticated principal may do to its own session and factors.
  'self-service': `permit (principal, action in ${NS}::Action::"group/self", resource);`,
  // Admin and publisher sessions need a verified second factor for everything but completing it.
  'mfa-for-privileged-roles': `forbid (principal, action, resource)
when { context.authKind == "session" && principal.mfaRequired && !context.mfa }
unless { action in ${NS}::Action::"group/self" };`,
  // Builders (and reviewers, auditors) never change production; release roles do.
  'production-changes': `forbid (principal, action in ${NS}::Action::"trait/write", resource)
when { context.environment == "prod" }
unless {
  ${ANY_RELEASE_ROLE}
};`,
  // Decrypted confidential or restricted data is only read for a declared purpose.
  'classified-needs-purpose': `forbid (principal, action in ${NS}::Action::"trait/reads-data", resource)
when { ["confidential", "restricted"].contains(context.classification) && context.purpose == "" };`,
  // A disabled principal can do nothing, whatever else holds.
  'disabled-principals': `forbid (principal, action, resource) when { principal.disabled };`,
};

/** The whole policy set as one Cedar text (docs/access.md shows it). */
export function policyText(): string {
  return Object.entries(POLICIES)
    .map(([id, text]) => `@id("${id}")\n${text}`)
    .join('\n\n');
}
