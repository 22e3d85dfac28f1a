// SQLite transactions that read before they write must take the write lock first: a deferred
// transaction that upgrades after another connection committed fails at once with SQLITE_BUSY
// instead of waiting. A write that matches no row takes the lock (and waits for it).
import type { Kysely } from 'kysely';
import type { Database, DialectName } from '../store/index.ts';

export async function takeWriteLock(trx: Kysely<Database>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await trx.deleteFrom('auth_challenges').where('id', '=', '').execute();
}
