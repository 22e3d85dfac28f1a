// Bearer API tokens: shown once at creation, stored only as a SHA-256 hash, scoped to a workspace
// and roles, optionally expiring, revocable.
import type { Kysely } from 'kysely';
import { constantTimeEqual, randomBytes, sha256 } from '../crypto/index.ts';
import type { Database } from '../store/index.ts';
import { nowIso } from '../store/index.ts';

export const ROLES = ['builder', 'reviewer', 'publisher', 'admin', 'auditor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

const PREFIX = 'cus_';

export interface TokenIdentity {
  readonly tokenId: string;
  readonly workspaceId: string;
  readonly roles: readonly Role[];
  readonly label: string;
}

function hashToken(token: string): string {
  return sha256(Buffer.from(token, 'utf8')).toString('hex');
}

/** Create a token; returns its one-time plaintext. Only the hash is stored. */
export async function issueToken(
  db: Kysely<Database>,
  input: { workspaceId: string; roles: readonly Role[]; label: string; expiresAt?: string },
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
    })
    .execute();
  return { id, token };
}

/** Resolve a presented bearer token to its identity, or undefined when unknown, expired or revoked. */
export async function verifyToken(db: Kysely<Database>, presented: string): Promise<TokenIdentity | undefined> {
  if (!presented.startsWith(PREFIX) || presented.length > 200) return undefined;
  const hash = hashToken(presented);
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (row === undefined) return undefined;
  // The lookup is by hash; compare again in constant time so equality never short-circuits on content.
  if (!constantTimeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  if (row.revoked_at !== null) return undefined;
  if (row.expires_at !== null && row.expires_at <= nowIso()) return undefined;
  return {
    tokenId: row.id,
    workspaceId: row.workspace_id,
    roles: JSON.parse(row.roles) as Role[],
    label: row.label,
  };
}
