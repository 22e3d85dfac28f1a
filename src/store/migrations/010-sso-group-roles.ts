// Single sign-on group mapping: a provider names the claim that lists a user's groups, and maps
// groups to roles. Grants made that way are marked as managed by the provider, so each sign-in
// can bring them in line with the groups the provider sends (adding and revoking), while grants an
// admin made by hand are never touched.
import type { Kysely } from 'kysely';
import type { DialectName, StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('oidc_providers')
    .addColumn('groups_claim', 'text', (c) => c.notNull().defaultTo('groups'))
    .execute();
  await db.schema
    .createTable('oidc_group_roles')
    .addColumn('provider_id', 'text', (c) => c.notNull().references('oidc_providers.id'))
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('connector', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('oidc_group_roles_pk', [
      'provider_id',
      'group_name',
      'workspace_id',
      'role',
      'connector',
    ])
    .execute();
  // Null for grants made by hand (or by elevation); `oidc:<provider>` for grants a sign-in keeps.
  await db.schema.alterTable('role_grants').addColumn('managed_by', 'text').execute();
}

export const ssoGroupRoles: StoreMigration = { name: '010-sso-group-roles', up };
