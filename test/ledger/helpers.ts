// Shared fixtures of the ledger tests: a deterministic root key provider, settings, events of a
// realistic size, and the attacker's tools (switching off the append-only triggers).
import { sql } from 'kysely';
import { open, seal } from '../../src/crypto/index.ts';
import {
  Ledgers,
  type AuditEvent,
  type LedgerSettings,
  type LedgersOptions,
  type SealingKeyProvider,
} from '../../src/ledger/index.ts';
import type { Store } from '../../src/store/index.ts';

const TEST_ROOT = Buffer.alloc(32, 7);

/** A root key provider with a fixed key, the same in every process of a test. */
export function testRoot(key: Buffer = TEST_ROOT): SealingKeyProvider {
  return {
    wrap: (plaintext, aad) => Promise.resolve(seal(key, plaintext, aad)),
    unwrap: (sealed, aad) => {
      try {
        return Promise.resolve(open(key, sealed, aad));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error('unwrap failed'));
      }
    },
  };
}

export function testSettings(overrides: Partial<LedgerSettings> = {}): LedgerSettings {
  return {
    originPrefix: 'custos.test',
    checkpointEveryEntries: 16,
    checkpointIntervalMs: 60_000,
    maxBatchWaitMs: 1,
    maxBatchSize: 64,
    publicLedgers: [],
    ...overrides,
  };
}

export function openLedgers(
  store: Store,
  overrides: Partial<LedgerSettings> = {},
  extra: Partial<Pick<LedgersOptions, 'onError' | 'fetch'>> = {},
): Ledgers {
  return new Ledgers({ store, root: testRoot(), options: testSettings(overrides), ...extra });
}

export async function addWorkspace(store: Store, id: string): Promise<void> {
  await store.db
    .insertInto('workspaces')
    .values({ id, name: id, created_at: new Date().toISOString() })
    .execute();
}

/** An event of about 200 canonical bytes. */
export function testEvent(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: '2025-01-02T03:04:05.678Z',
    actor: { kind: 'user', id: `user-${i % 7}` },
    action: 'record.read',
    resource: { kind: 'record', id: `customer/${i}` },
    outcome: 'success',
    purpose: 'support ticket',
    correlationId: `run-${i}`,
    details: { fields: ['/email', '/phone'], digest: 'sha256:0123456789abcdef' },
    ...extra,
  };
}

const LEDGER_TABLES = [
  'ledgers',
  'ledger_entries',
  'ledger_tiles',
  'ledger_checkpoints',
  'ledger_timestamps',
];

/** What an attacker with the database owner's rights does first: switch the triggers off. */
export async function dropAppendOnlyGuards(store: Store): Promise<void> {
  if (store.dialect === 'postgres') {
    for (const t of LEDGER_TABLES) await sql.raw(`alter table ${t} disable trigger user`).execute(store.db);
    return;
  }
  const rows = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'trigger' and tbl_name like 'ledger%'`.execute(store.db);
  for (const r of rows.rows) await sql.raw(`drop trigger ${r.name}`).execute(store.db);
}
