// Shared setup for keyring tests: a migrated store of one dialect, a workspace row, a root key file, a keyring.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStore, type TestStore } from '../helpers/dialects.ts';
import { createLocalRootKeyFile, Keyring, type RootKeyProvider } from '../../src/keys/index.ts';
import { MemoryAuditSink, type Actor } from '../../src/ledger/audit-sink.ts';
import type { DialectName } from '../../src/store/index.ts';

export const ADMIN: Actor = { kind: 'user', id: 'admin-1' };

export interface KeyringFixture {
  readonly t: TestStore;
  readonly dir: string;
  readonly root: RootKeyProvider;
  readonly audit: MemoryAuditSink;
  readonly keyring: Keyring;
  readonly workspaceId: string;
  cleanup(): Promise<void>;
}

export async function createWorkspaceRow(t: TestStore, id: string): Promise<void> {
  await t.store.db
    .insertInto('workspaces')
    .values({ id, name: id, created_at: new Date().toISOString() })
    .execute();
}

export async function setupKeyring(
  dialect: DialectName,
  opts: { rotateAfterWraps?: number; init?: boolean; workspaceId?: string } = {},
): Promise<KeyringFixture> {
  const t = await createTestStore(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'custos-keys-'));
  const root = await createLocalRootKeyFile(join(dir, 'root.key'));
  const audit = new MemoryAuditSink();
  const keyring = new Keyring({
    store: t.store,
    root,
    audit,
    ...(opts.rotateAfterWraps === undefined ? {} : { rotateAfterWraps: opts.rotateAfterWraps }),
  });
  const workspaceId = opts.workspaceId ?? 'ws1';
  await createWorkspaceRow(t, workspaceId);
  if (opts.init !== false) await keyring.initWorkspace(workspaceId, ADMIN);
  return {
    t,
    dir,
    root,
    audit,
    keyring,
    workspaceId,
    cleanup: async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
