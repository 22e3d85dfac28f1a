// Workspaces: the unit of isolation for keys, ledgers, records and roles.
import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';
import { nowIso } from '../store/index.ts';

export const WORKSPACE_ID = /^[a-z][a-z0-9-]{0,62}$/;

/** Validate a workspace id. Throws INPUT_INVALID naming the rule. */
export function checkWorkspaceId(id: string, field = 'workspace'): string {
  if (!WORKSPACE_ID.test(id) || id === 'system') {
    throw new CustosError('INPUT_INVALID', `${field} must be a lowercase id (a-z, 0-9, -), not "system"`, {
      details: { field, rule: '^[a-z][a-z0-9-]{0,62}$, not system' },
    });
  }
  return id;
}

/** Insert a workspace row. Throws STORE_CONFLICT when it exists. */
export async function createWorkspace(db: Kysely<Database>, id: string, name = id): Promise<void> {
  checkWorkspaceId(id);
  const existing = await db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst();
  if (existing !== undefined) {
    throw new CustosError('STORE_CONFLICT', `Workspace ${id} already exists`, {
      details: { field: 'workspace', rule: 'unique' },
    });
  }
  await db.insertInto('workspaces').values({ id, name, created_at: nowIso() }).execute();
}

/** Throws KEYS_WORKSPACE_UNKNOWN→ NOT_FOUND when the workspace does not exist. */
export async function requireWorkspace(db: Kysely<Database>, id: string): Promise<void> {
  const row = await db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst();
  if (row === undefined) {
    throw new CustosError('NOT_FOUND', `Workspace ${id} does not exist`, {
      details: { field: 'workspace', rule: 'existing workspace' },
    });
  }
}

export interface WorkspaceInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
}

/** Every workspace, by id. */
export async function listWorkspaces(db: Kysely<Database>): Promise<WorkspaceInfo[]> {
  const rows = await db.selectFrom('workspaces').selectAll().orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}
