// Bearer API tokens: shown once at creation, stored only as a SHA-256 hash, scoped to a workspace
// and roles, expiring, revocable. A token owned by a user or service account never grants more
// than its owner holds at the time of the request.
import type { Kysely } from 'kysely';
import { constantTimeEqual, randomBytes, sha256 } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';
import { nowIso } from '../store/index.ts';
import { isRole, type Role } from './roles.ts';

export { ROLES } from './roles.ts';
export type { Role } from './roles.ts';

const PREFIX = 'cus_';
/** What a presented token must look like before it is hashed and looked up. */
export const TOKEN_SHAPE = /^cus_[A-Za-z0-9_-]{43}$/;

export interface TokenIdentity {
  readonly tokenId: string;
  readonly workspaceId: string;
  readonly roles: readonly Role[];
  readonly label: string;
  /** The user or service account the token acts for; null for installation tokens (bootstrap). */
  readonly ownerId: string | null;
}

/** What listing shows about a token: never the token or its hash. */
export interface TokenMetadata {
  readonly id: string;
  readonly workspace: string;
  readonly roles: readonly Role[];
  readonly label: string;
  readonly ownerId: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

function hashToken(token: string): string {
  return sha256(Buffer.from(token, 'utf8')).toString('hex');
}

function parseRoles(text: string): Role[] {
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? parsed.filter(isRole) : [];
}

export interface IssueTokenInput {
  readonly workspaceId: string;
  readonly roles: readonly Role[];
  readonly label: string;
  readonly expiresAt?: string;
  readonly ownerId?: string | null;
  readonly createdBy?: string;
}

/** Create a token; returns its one-time plaintext. Only the hash is stored. */
export async function issueToken(
  db: Kysely<Database>,
  input: IssueTokenInput,
): Promise<{ id: string; token: string }> {
  const id = randomBytes(8).toString('hex');
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  await db
    .insertInto('api_tokens')
    .values({
      id,
      token_hash: hashToken(token),
      workspace_id: input.workspaceId,
      roles: JSON.stringify(input.roles),
      label: input.label,
      created_at: nowIso(),
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      owner_id: input.ownerId ?? null,
      created_by: input.createdBy ?? null,
      last_used_at: null,
    })
    .execute();
  return { id, token };
}

/** Resolve a presented bearer token to its identity, or undefined when unknown, expired or revoked. */
export async function verifyToken(
  db: Kysely<Database>,
  presented: string,
  now: string = nowIso(),
): Promise<TokenIdentity | undefined> {
  if (!TOKEN_SHAPE.test(presented)) return undefined;
  const hash = hashToken(presented);
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (row === undefined) return undefined;
  // The lookup is by hash; compare again in constant time so equality never short-circuits on content.
  if (!constantTimeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  if (row.revoked_at !== null) return undefined;
  if (row.expires_at !== null && row.expires_at <= now) return undefined;
  return {
    tokenId: row.id,
    workspaceId: row.workspace_id,
    roles: parseRoles(row.roles),
    label: row.label,
    ownerId: row.owner_id,
  };
}

/** Tokens of a workspace, newest first, as metadata. */
export async function listTokens(db: Kysely<Database>, workspace: string): Promise<TokenMetadata[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select([
      'id',
      'workspace_id',
      'roles',
      'label',
      'owner_id',
      'created_by',
      'created_at',
      'expires_at',
      'last_used_at',
      'revoked_at',
    ])
    .where('workspace_id', '=', workspace)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    workspace: r.workspace_id,
    roles: parseRoles(r.roles),
    label: r.label,
    ownerId: r.owner_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revoke a token of `workspace`. Throws IAM_TOKEN_NOT_FOUND. */
export async function revokeToken(
  db: Kysely<Database>,
  workspace: string,
  id: string,
  now = nowIso(),
): Promise<void> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('workspace_id', '=', workspace)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new CustosError('IAM_TOKEN_NOT_FOUND', 'No live token with this id in the workspace', {
      details: { field: 'tokenId', rule: 'live token of this workspace' },
    });
  }
}

const TOUCH_EVERY_MS = 60 * 60 * 1000;
const touched = new Map<string, number>();

/** Note that a token was used (at most hourly), for access reviews. */
export async function touchToken(db: Kysely<Database>, id: string, now: Date): Promise<void> {
  if ((touched.get(id) ?? -Infinity) + TOUCH_EVERY_MS > now.getTime()) return;
  touched.set(id, now.getTime());
  await db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', id).execute();
}
