// Claiming runs with leases. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so any number of workers on any
// number of machines take disjoint runs. SQLite: one atomic UPDATE … RETURNING (a write lock).
import { sql } from 'kysely';
import type { Store } from '../../store/index.ts';
import type { Lease, RunRow } from './persistence.ts';

/** A run a worker now holds: its row as of the claim and the lease to fence its commits with. */
export interface ClaimedRun {
  readonly row: RunRow;
  readonly lease: Lease;
}

/**
 * Claim up to `limit` runs that are due (queued, retrying, waiting past their time) or whose lease
 * expired (their worker died). Every claim bumps the run's lease epoch.
 */
export async function claimRuns(
  store: Store,
  owner: string,
  leaseMs: number,
  limit: number,
  now: number,
): Promise<ClaimedRun[]> {
  const at = new Date(now).toISOString();
  const expires = new Date(now + leaseMs).toISOString();
  let rows: RunRow[];
  if (store.dialect === 'postgres') {
    const result = await sql<RunRow>`
      with due as (
        select id from runs
        where (status in ('queued', 'retrying', 'waiting') and next_at <= ${at})
           or (status = 'running' and lease_expires_at < ${at})
        order by next_at
        limit ${limit}
        for update skip locked
      )
      update runs set status = 'running', lease_owner = ${owner}, lease_expires_at = ${expires},
        lease_epoch = runs.lease_epoch + 1, updated_at = ${at}
      from due where runs.id = due.id
      returning runs.*`.execute(store.db);
    rows = result.rows;
  } else {
    rows = await store.db
      .updateTable('runs')
      .set((eb) => ({
        status: 'running',
        lease_owner: owner,
        lease_expires_at: expires,
        lease_epoch: eb('lease_epoch', '+', 1),
        updated_at: at,
      }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('runs')
          .select('id')
          .where((w) =>
            w.or([
              w.and([w('status', 'in', ['queued', 'retrying', 'waiting']), w('next_at', '<=', at)]),
              w.and([w('status', '=', 'running'), w('lease_expires_at', '<', at)]),
            ]),
          )
          .orderBy('next_at')
          .limit(limit),
      )
      .returningAll()
      .execute();
  }
  return rows.map((row) => ({ row, lease: { runId: row.id, owner, epoch: row.lease_epoch } }));
}

/** Lease state of a held run as a heartbeat found it. */
export interface LeaseCheck {
  readonly runId: string;
  readonly held: boolean;
  readonly cancelRequested: boolean;
}

/** Extend the leases of `leases`; reports which are still held and which were asked to cancel. */
export async function renewLeases(
  store: Store,
  owner: string,
  leases: readonly Lease[],
  leaseMs: number,
  now: number,
): Promise<LeaseCheck[]> {
  if (leases.length === 0) return [];
  const rows = await store.db
    .updateTable('runs')
    .set({ lease_expires_at: new Date(now + leaseMs).toISOString() })
    .where(
      'id',
      'in',
      leases.map((l) => l.runId),
    )
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning(['id', 'lease_epoch', 'cancel_requested'])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return leases.map((l) => {
    const r = byId.get(l.runId);
    return {
      runId: l.runId,
      held: r?.lease_epoch === l.epoch,
      cancelRequested: r !== undefined && r.cancel_requested !== 0,
    };
  });
}

/** The earliest time a queued, retrying or waiting run becomes due, for idle workers to sleep until. */
export async function nextDue(store: Store): Promise<number | undefined> {
  const row = await store.db
    .selectFrom('runs')
    .select((eb) => eb.fn.min('next_at').as('next'))
    .where('status', 'in', ['queued', 'retrying', 'waiting'])
    .executeTakeFirst();
  const next = row?.next;
  return typeof next === 'string' ? Date.parse(next) : undefined;
}
