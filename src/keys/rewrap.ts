// Rewrap: move wrapped DEKs and subject keys from retired KEK versions to the active one. Reads and
// writes are batched; the crypto of one batch overlaps the store I/O of the next (on workers when asked).
import { availableParallelism } from 'node:os';
import { CompiledQuery, type Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import { asBuffer, type Database, type DialectName } from '../store/index.ts';
import type { KekStore, Rotation } from './kek-store.ts';
import type { KeyScope } from './key-scope.ts';
import type { RewrapOutput, RewrapTable } from './rewrap-crypto.ts';
import { RewrapPool, type RewrapTask } from './rewrap-pool.ts';

export interface RewrapProgress {
  readonly rewrapped: number;
  readonly remaining: number;
}

export interface RewrapOptions {
  /** Keys per batch (1 to 8000: four parameters a row stay under SQLite's 32766; default 5000); one transaction each. */
  readonly batchSize?: number;
  /** Checked between batches; an aborted run writes what it already computed, returns `aborted: true`, and can be resumed. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RewrapProgress) => void;
  /** Worker threads for the crypto (0: on this thread). Default: cores - 1 (at most 4) from 20000 keys on. */
  readonly workers?: number;
}

export interface RewrapResult {
  readonly rewrapped: number;
  /** Keys still wrapped by a version older than the one active when the run started (0 unless aborted). */
  readonly remaining: number;
  readonly aborted: boolean;
  readonly activeVersion: number;
}

export interface RewrapContext {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  readonly keks: KekStore;
  readonly limit: number;
  readonly transaction: <T>(fn: (scope: KeyScope) => Promise<T>) => Promise<T>;
  readonly onRotate: (scope: KeyScope, rotation: Rotation) => void;
}

interface Selected {
  readonly ids: string[];
  readonly old: number;
  readonly wrapped: Buffer[];
}

const AUTO_WORKERS_FROM = 20_000;

function keyColumn(table: RewrapTable): 'id' | 'subject_id' {
  return table === 'deks' ? 'id' : 'subject_id';
}

async function countRemaining(db: Kysely<Database>, workspaceId: string, active: number): Promise<number> {
  let n = 0;
  for (const table of ['subject_keys', 'deks'] as const) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('kek_version', '<', active)
      .executeTakeFirstOrThrow();
    n += row.n;
  }
  return n;
}

async function oldVersions(
  db: Kysely<Database>,
  table: RewrapTable,
  workspaceId: string,
  active: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom(table)
    .select('kek_version')
    .distinct()
    .where('workspace_id', '=', workspaceId)
    .where('kek_version', '<', active)
    .orderBy('kek_version')
    .execute();
  return rows.flatMap((r) => (r.kek_version === null ? [] : [r.kek_version]));
}

/** The next batch of one old version, in key order after `cursor` (keyset pagination on the version index). */
async function selectBatch(
  db: Kysely<Database>,
  table: RewrapTable,
  workspaceId: string,
  old: number,
  cursor: string,
  limit: number,
): Promise<Selected> {
  const rows =
    table === 'deks'
      ? await db
          .selectFrom('deks')
          .select(['id as k', 'wrapped'])
          .where('workspace_id', '=', workspaceId)
          .where('kek_version', '=', old)
          .where('id', '>', cursor)
          .orderBy('id')
          .limit(limit)
          .execute()
      : await db
          .selectFrom('subject_keys')
          .select(['subject_id as k', 'wrapped'])
          .where('workspace_id', '=', workspaceId)
          .where('kek_version', '=', old)
          .where('subject_id', '>', cursor)
          .orderBy('subject_id')
          .limit(limit)
          .execute();
  const ids: string[] = [];
  const wrapped: Buffer[] = [];
  for (const r of rows) {
    if (r.wrapped === null) continue;
    ids.push(r.k);
    wrapped.push(asBuffer(r.wrapped));
  }
  return { ids, old, wrapped };
}

const updateSql = new Map<string, string>();

/**
 * One multi-row UPDATE from a VALUES list, as precompiled SQL text (building a 20000-parameter query through
 * the query builder costs more than running it). A row another writer changed meanwhile (its old version no
 * longer matches) is left alone.
 */
function updateText(dialect: DialectName, table: RewrapTable, rows: number): string {
  const id = `${dialect}:${table}:${rows}`;
  let text = updateSql.get(id);
  if (text !== undefined) return text;
  const key = keyColumn(table);
  if (dialect === 'postgres') {
    const values = Array.from({ length: rows }, (_, i) => {
      const p = 4 * i + 2;
      return `($${p}::text, $${p + 1}::bytea, $${p + 2}::int, $${p + 3}::int)`;
    }).join(', ');
    text = `update ${table} set kek_version = v.nv, wrapped = v.w from (values ${values}) as v(k, w, ov, nv)
      where ${table}.workspace_id = $1 and ${table}.${key} = v.k and ${table}.kek_version = v.ov`;
  } else {
    const values = Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ');
    // Unary + keeps SQLite from driving the join by the version index (quadratic on large batches).
    const ws = table === 'deks' ? `+${table}.workspace_id` : `${table}.workspace_id`;
    text = `update ${table} set kek_version = v.column4, wrapped = v.column2 from (values ${values}) as v
      where ${ws} = ? and ${table}.${key} = v.column1 and +${table}.kek_version = v.column3`;
  }
  if (updateSql.size > 64) updateSql.clear();
  updateSql.set(id, text);
  return text;
}

async function writeBatch(
  db: Kysely<Database>,
  dialect: DialectName,
  table: RewrapTable,
  workspaceId: string,
  sel: Selected,
  out: RewrapOutput,
): Promise<number> {
  const params: unknown[] = dialect === 'postgres' ? [workspaceId] : [];
  sel.ids.forEach((id, i) => {
    params.push(id, out.wrapped[i], sel.old, out.versions[i]);
  });
  if (dialect !== 'postgres') params.push(workspaceId);
  const result = await db.executeQuery(CompiledQuery.raw(updateText(dialect, table, sel.ids.length), params));
  return Number(result.numAffectedRows ?? BigInt(sel.ids.length));
}

function workerCount(opts: RewrapOptions, remaining: number): number {
  if (opts.workers !== undefined) {
    if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > 16) {
      throw new CustosError('INPUT_INVALID', 'Rewrap workers must be an integer from 0 to 16', {
        details: { field: 'workers', rule: 'integer from 0 to 16' },
      });
    }
    return opts.workers;
  }
  // Worth a thread only for large runs on a machine with a core to spare for it.
  const cores = availableParallelism();
  if (remaining < AUTO_WORKERS_FROM || cores < 2) return 0;
  return Math.min(4, cores - 1);
}

/** See Keyring.rewrap. */
export async function rewrapWorkspace(
  ctx: RewrapContext,
  workspaceId: string,
  opts: RewrapOptions,
): Promise<RewrapResult> {
  const batchSize = opts.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 8000) {
    throw new CustosError('INPUT_INVALID', 'Rewrap batch size must be an integer from 1 to 8000', {
      details: { field: 'batchSize', rule: 'integer from 1 to 8000' },
    });
  }
  const start = await ctx.keks.active(ctx.db, workspaceId);
  const state = {
    rewrapped: 0,
    remaining: await countRemaining(ctx.db, workspaceId, start.version),
    aborted: false,
  };
  const pool = new RewrapPool(workerCount(opts, state.remaining));
  try {
    for (const table of ['subject_keys', 'deks'] as const) {
      for (const old of await oldVersions(ctx.db, table, workspaceId, start.version)) {
        if (!state.aborted)
          await rewrapVersion(ctx, pool, { table, workspaceId, old, batchSize }, opts, state);
      }
    }
  } finally {
    await pool.close();
  }
  const active = await ctx.keks.active(ctx.db, workspaceId);
  // Measured against the version active at the start: keys that a wrap-limit rotation during this run left
  // on a newer, now retired version are where they should be.
  const remaining = await countRemaining(ctx.db, workspaceId, start.version);
  return { rewrapped: state.rewrapped, remaining, aborted: state.aborted, activeVersion: active.version };
}

interface Segment {
  readonly table: RewrapTable;
  readonly workspaceId: string;
  readonly old: number;
  readonly batchSize: number;
}

/**
 * Rewrap every key of one table wrapped by one old version. Each transaction writes the batch whose crypto
 * finished and selects (and counts the wraps of) the next, so a batch costs one commit; with workers, the
 * crypto of the batches in flight overlaps those transactions.
 */
async function rewrapVersion(
  ctx: RewrapContext,
  pool: RewrapPool,
  seg: Segment,
  opts: RewrapOptions,
  state: { rewrapped: number; remaining: number; aborted: boolean },
): Promise<void> {
  const { table, workspaceId, old } = seg;
  const oldKek = await ctx.keks.key(ctx.db, workspaceId, old);
  const depth = pool.size + 1;
  const queue: { sel: Selected; task: RewrapTask }[] = [];
  let cursor = '';
  let exhausted = false;
  while (!exhausted || queue.length > 0) {
    if (!exhausted && opts.signal?.aborted) {
      state.aborted = true;
      exhausted = true;
    }
    const ready = exhausted || queue.length >= depth ? queue.shift() : undefined;
    // Waiting on the oldest batch: do its chunks no worker has started yet meanwhile.
    ready?.task.help();
    const readyOut = ready ? await ready.task.result : undefined;
    const step = await ctx.transaction(async (scope) => {
      const moved =
        ready && readyOut
          ? await writeBatch(scope.db, ctx.dialect, table, workspaceId, ready.sel, readyOut)
          : 0;
      if (exhausted) return { moved };
      const sel = await selectBatch(scope.db, table, workspaceId, old, cursor, seg.batchSize);
      if (sel.ids.length === 0) return { moved };
      const grants = await ctx.keks.allocate(scope.db, workspaceId, sel.ids.length, ctx.limit, (r) => {
        ctx.onRotate(scope, r);
      });
      return { moved, next: { sel, grants } };
    });
    if (ready) {
      state.rewrapped += step.moved;
      state.remaining = Math.max(0, state.remaining - ready.sel.ids.length);
      opts.onProgress?.({ rewrapped: state.rewrapped, remaining: state.remaining });
    }
    if (!step.next) {
      exhausted = true;
      continue;
    }
    const { sel, grants } = step.next;
    cursor = sel.ids.at(-1) ?? cursor;
    const task = pool.run({
      table,
      workspaceId,
      oldVersion: old,
      oldKek,
      grants,
      ids: sel.ids,
      wrapped: sel.wrapped,
    });
    task.result.catch(() => undefined); // awaited in turn; keeps an early failure from going unhandled meanwhile
    queue.push({ sel, task });
  }
}
