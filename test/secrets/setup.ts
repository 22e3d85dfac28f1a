// A migrated store of one dialect with an initialized workspace keyring and a vault on a settable clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStore, type TestStore } from '../helpers/dialects.ts';
import { createLocalRootKeyFile, Keyring } from '../../src/keys/index.ts';
import { MemoryAuditSink, type Actor } from '../../src/ledger/index.ts';
import { SecretsVault } from '../../src/secrets/index.ts';
import type { DialectName } from '../../src/store/index.ts';

export const ADMIN: Actor = { kind: 'user', id: 'admin-1' };
export const ENGINE: Actor = { kind: 'service', id: 'engine' };
export const WS = 'acme';

export interface VaultFixture {
  readonly t: TestStore;
  readonly audit: MemoryAuditSink;
  readonly keyring: Keyring;
  readonly vault: SecretsVault;
  /** The vault's clock; move `clock.now` to test schedules. */
  readonly clock: { now: Date };
  cleanup(): Promise<void>;
}

export async function setupVault(dialect: DialectName): Promise<VaultFixture> {
  const t = await createTestStore(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'custos-secrets-'));
  const root = await createLocalRootKeyFile(join(dir, 'root.key'));
  const audit = new MemoryAuditSink();
  const keyring = new Keyring({ store: t.store, root, audit });
  await t.store.db
    .insertInto('workspaces')
    .values({ id: WS, name: WS, created_at: new Date().toISOString() })
    .execute();
  await keyring.initWorkspace(WS, ADMIN);
  audit.events.length = 0;
  const clock = { now: new Date('2025-01-01T00:00:00.000Z') };
  const vault = new SecretsVault({ store: t.store, keyring, audit, clock: () => clock.now });
  return {
    t,
    audit,
    keyring,
    vault,
    clock,
    cleanup: async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
