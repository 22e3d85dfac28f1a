// The WORM archive of export bundles: content-addressed by SHA-256, never overwritten, deleted only
// after retention, without legal hold, on the request of one admin and the approval of another.
// Exporters can only add; auditors can only read. Every step is a custody ledger event.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { sql } from 'kysely';
import { CustosError } from '../../errors/index.ts';
import type { AuditSink } from '../../ledger/index.ts';
import type { Store } from '../../store/index.ts';
import type { CustodyArchiveTable } from '../../store/schema-custody.ts';
import { custodyEvent, type CustodyAction } from '../events.ts';
import { requireRole, type Caller } from '../roles.ts';
import { checkAddress, digestMismatch, notFound, type BlobBackend } from './backend.ts';
import { withCorrelation } from '../../ledger/index.ts';

export interface ArchiveEntry {
  readonly sha256: string;
  readonly workspaceId: string;
  readonly exportId: string | null;
  readonly size: number;
  readonly backend: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly retainUntil: string;
  readonly legalHold: boolean;
  readonly holdReason: string | null;
  readonly deletionRequestedBy: string | null;
  readonly deletedAt: string | null;
  readonly lastScrubAt: string | null;
  readonly lastScrubOk: boolean | null;
}

export interface ArchiveOptions {
  readonly store: Store;
  readonly primary: BlobBackend;
  /** A second location holding a copy of every blob; the scrubber repairs from it. */
  readonly replica?: BlobBackend;
  readonly audit: AuditSink;
  readonly now?: () => Date;
}

function toEntry(r: CustodyArchiveTable): ArchiveEntry {
  return {
    sha256: r.sha256,
    workspaceId: r.workspace_id,
    exportId: r.export_id,
    size: r.size,
    backend: r.backend,
    createdAt: r.created_at,
    createdBy: r.created_by,
    retainUntil: r.retain_until,
    legalHold: r.legal_hold === 1,
    holdReason: r.hold_reason,
    deletionRequestedBy: r.deletion_requested_by,
    deletedAt: r.deleted_at,
    lastScrubAt: r.last_scrub_at,
    lastScrubOk: r.last_scrub_ok === null ? null : r.last_scrub_ok === 1,
  };
}

export function actorName(caller: Caller): string {
  return `${caller.actor.kind}:${caller.actor.id}`;
}

function conflict(
  code:
    | 'CUSTODY_RETENTION_ACTIVE'
    | 'CUSTODY_LEGAL_HOLD'
    | 'CUSTODY_ARCHIVE_IMMUTABLE'
    | 'CUSTODY_DELETION_NOT_REQUESTED',
  message: string,
  rule: string,
): CustosError {
  return new CustosError(code, message, { details: { field: 'sha256', rule } });
}

async function sha256OfFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export class Archive {
  readonly primary: BlobBackend;
  readonly replica: BlobBackend | undefined;
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #now: () => Date;

  constructor(o: ArchiveOptions) {
    this.#store = o.store;
    this.primary = o.primary;
    this.replica = o.replica;
    this.#audit = o.audit;
    this.#now = o.now ?? (() => new Date());
  }

  async #row(workspaceId: string, sha256: string): Promise<CustodyArchiveTable> {
    checkAddress(sha256);
    const row = await this.#store.db
      .selectFrom('custody_archive')
      .selectAll()
      .where('sha256', '=', sha256)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    if (row === undefined) throw notFound(sha256);
    return row;
  }

  async #event(
    workspaceId: string,
    action: CustodyAction,
    caller: Caller,
    row: { sha256: string; export_id: string | null },
    details: Record<string, string> = {},
    correlationId?: string,
    outcome?: 'success' | 'failure',
  ): Promise<void> {
    await this.#audit.record(
      workspaceId,
      custodyEvent({
        ...(outcome === undefined ? {} : { outcome }),
        action,
        actor: caller.actor,
        bundleSha256: row.sha256,
        ...(row.export_id === null ? {} : { exportId: row.export_id }),
        ...withCorrelation(correlationId),
        details,
      }),
    );
  }

  /** Record a custody step that happens outside the archive (delivered, verified). */
  async record(
    workspaceId: string,
    sha256: string,
    action: 'custody.delivered' | 'custody.verified',
    caller: Caller,
    details: Record<string, string> = {},
    options: { readonly outcome?: 'success' | 'failure'; readonly correlationId?: string } = {},
  ): Promise<void> {
    const row = await this.#row(workspaceId, sha256);
    await this.#event(workspaceId, action, caller, row, details, options.correlationId, options.outcome);
  }

  /**
   * Archive the bundle file at `path`. Idempotent for identical bytes; never replaces anything.
   * Exporter or admin. Throws CUSTODY_ARCHIVE_DENIED, CUSTODY_ARCHIVE_IMMUTABLE (bytes archived
   * and since deleted), CUSTODY_ARCHIVE_CORRUPT (file changed while archiving), CUSTODY_ARCHIVE_IO.
   */
  async put(
    workspaceId: string,
    path: string,
    meta: { exportId?: string; retainUntil: string; correlationId?: string },
    caller: Caller,
  ): Promise<ArchiveEntry> {
    requireRole(caller, ['exporter', 'admin'], 'archive bundles');
    const { sha256, size } = await sha256OfFile(path);
    const existing = await this.#store.db
      .selectFrom('custody_archive')
      .selectAll()
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (existing !== undefined) {
      if (existing.deleted_at !== null || existing.workspace_id !== workspaceId) {
        throw conflict(
          'CUSTODY_ARCHIVE_IMMUTABLE',
          'These bytes were archived before and cannot be archived again',
          'not previously archived',
        );
      }
      return toEntry(existing);
    }
    for (const backend of [this.primary, this.replica]) {
      if (backend !== undefined)
        await backend.write(
          sha256,
          createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Uint8Array>,
        );
    }
    const row: CustodyArchiveTable = {
      sha256,
      workspace_id: workspaceId,
      export_id: meta.exportId ?? null,
      size,
      backend: this.primary.name,
      created_at: this.#now().toISOString(),
      created_by: actorName(caller),
      retain_until: meta.retainUntil,
      legal_hold: 0,
      hold_reason: null,
      hold_by: null,
      hold_at: null,
      deletion_requested_by: null,
      deletion_requested_at: null,
      deleted_by: null,
      deleted_at: null,
      last_scrub_at: null,
      last_scrub_ok: null,
    };
    await this.#store.db
      .insertInto('custody_archive')
      .values(row)
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
    await this.#event(
      workspaceId,
      'custody.archived',
      caller,
      row,
      { retainUntil: meta.retainUntil, size: String(size) },
      meta.correlationId,
    );
    return toEntry(row);
  }

  /** Archived bundles of the workspace, newest first. Any custody role. */
  async list(
    workspaceId: string,
    caller: Caller,
    options: { includeDeleted?: boolean } = {},
  ): Promise<ArchiveEntry[]> {
    requireRole(caller, ['exporter', 'admin', 'auditor'], 'list the archive');
    let q = this.#store.db.selectFrom('custody_archive').selectAll().where('workspace_id', '=', workspaceId);
    if (options.includeDeleted !== true) q = q.where('deleted_at', 'is', null);
    return (await q.orderBy('created_at', 'desc').orderBy('sha256').execute()).map(toEntry);
  }

  async entry(workspaceId: string, sha256: string): Promise<ArchiveEntry> {
    return toEntry(await this.#row(workspaceId, sha256));
  }

  /**
   * Copy a bundle out to `out` (a new file), verifying its digest on the way. Any custody role.
   * Throws CUSTODY_ARCHIVE_NOT_FOUND, CUSTODY_ARCHIVE_CORRUPT (the partial copy is removed).
   */
  async get(workspaceId: string, sha256: string, out: string, caller: Caller): Promise<ArchiveEntry> {
    requireRole(caller, ['exporter', 'admin', 'auditor'], 'read the archive');
    const row = await this.#row(workspaceId, sha256);
    if (row.deleted_at !== null) throw notFound(sha256);
    const fh = await open(out, 'wx', 0o600).catch((cause: unknown) => {
      throw new CustosError('CUSTODY_ARCHIVE_IO', 'Output file cannot be created', {
        cause,
        details: { field: '--out', rule: 'a new file in a writable directory' },
      });
    });
    const h = createHash('sha256');
    try {
      for await (const chunk of this.primary.read(sha256)) {
        h.update(chunk);
        let done = 0;
        while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(out, { force: true });
      throw err;
    }
    if (h.digest('hex') !== sha256) {
      await rm(out, { force: true });
      await this.#event(workspaceId, 'custody.integrity-failed', caller, row, { where: 'download' });
      throw digestMismatch(sha256, 'on download');
    }
    await this.#event(workspaceId, 'custody.downloaded', caller, row);
    return toEntry(row);
  }

  /** Place a legal hold: deletion is refused until it is released. Admin only. */
  async hold(workspaceId: string, sha256: string, reason: string, caller: Caller): Promise<ArchiveEntry> {
    requireRole(caller, ['admin'], 'place legal holds');
    const row = await this.#row(workspaceId, sha256);
    if (row.deleted_at !== null) throw notFound(sha256);
    await this.#store.db
      .updateTable('custody_archive')
      .set({
        legal_hold: 1,
        hold_reason: reason,
        hold_by: actorName(caller),
        hold_at: this.#now().toISOString(),
        deletion_requested_by: null,
        deletion_requested_at: null,
      })
      .where('sha256', '=', sha256)
      .execute();
    await this.#event(workspaceId, 'custody.hold', caller, row, { reason });
    return this.entry(workspaceId, sha256);
  }

  /** Release a legal hold. Admin only. */
  async release(workspaceId: string, sha256: string, caller: Caller): Promise<ArchiveEntry> {
    requireRole(caller, ['admin'], 'release legal holds');
    const row = await this.#row(workspaceId, sha256);
    await this.#store.db
      .updateTable('custody_archive')
      .set({ legal_hold: 0 })
      .where('sha256', '=', sha256)
      .execute();
    await this.#event(workspaceId, 'custody.released', caller, row);
    return this.entry(workspaceId, sha256);
  }

  #checkDeletable(row: CustodyArchiveTable): void {
    if (row.deleted_at !== null) throw notFound(row.sha256);
    if (row.legal_hold === 1)
      throw conflict('CUSTODY_LEGAL_HOLD', 'Bundle is under legal hold', 'no legal hold');
    if (this.#now().toISOString() < row.retain_until)
      throw conflict(
        'CUSTODY_RETENTION_ACTIVE',
        `Bundle is retained until ${row.retain_until}`,
        `after ${row.retain_until}`,
      );
  }

  /** First step of a deletion: one admin asks. Throws CUSTODY_RETENTION_ACTIVE, CUSTODY_LEGAL_HOLD. */
  async requestDeletion(workspaceId: string, sha256: string, caller: Caller): Promise<ArchiveEntry> {
    requireRole(caller, ['admin'], 'delete archived bundles');
    const row = await this.#row(workspaceId, sha256);
    this.#checkDeletable(row);
    await this.#store.db
      .updateTable('custody_archive')
      .set({ deletion_requested_by: actorName(caller), deletion_requested_at: this.#now().toISOString() })
      .where('sha256', '=', sha256)
      .execute();
    await this.#event(workspaceId, 'custody.deletion-requested', caller, row);
    return this.entry(workspaceId, sha256);
  }

  /**
   * Second step: another admin approves and the content is removed (the row stays as a tombstone).
   * Throws CUSTODY_DELETION_NOT_REQUESTED, CUSTODY_SAME_APPROVER, CUSTODY_RETENTION_ACTIVE, CUSTODY_LEGAL_HOLD.
   */
  async approveDeletion(workspaceId: string, sha256: string, caller: Caller): Promise<ArchiveEntry> {
    requireRole(caller, ['admin'], 'delete archived bundles');
    const row = await this.#row(workspaceId, sha256);
    this.#checkDeletable(row);
    if (row.deletion_requested_by === null) {
      throw conflict(
        'CUSTODY_DELETION_NOT_REQUESTED',
        'Deletion needs a request by one admin first',
        'a pending deletion request',
      );
    }
    if (row.deletion_requested_by === actorName(caller)) {
      throw new CustosError(
        'CUSTODY_SAME_APPROVER',
        'The admin who requested the deletion cannot approve it',
        {
          details: { field: 'actor', rule: 'a second, different admin' },
        },
      );
    }
    await this.#store.db
      .updateTable('custody_archive')
      .set({ deleted_at: this.#now().toISOString(), deleted_by: actorName(caller) })
      .where('sha256', '=', sha256)
      .where('deleted_at', 'is', null)
      .execute();
    for (const backend of [this.primary, this.replica])
      if (backend !== undefined) await backend.remove(sha256);
    await this.#event(workspaceId, 'custody.deleted', caller, row, {
      requestedBy: row.deletion_requested_by,
    });
    return this.entry(workspaceId, sha256);
  }

  /** Record a scrub result (the only other change an archive row allows). */
  async markScrubbed(sha256: string, ok: boolean): Promise<void> {
    await this.#store.db
      .updateTable('custody_archive')
      .set({ last_scrub_at: this.#now().toISOString(), last_scrub_ok: ok ? 1 : 0 })
      .where('sha256', '=', sha256)
      .execute();
  }

  /** Rows the scrubber should look at: never or least recently scrubbed first. */
  async scrubCandidates(limit?: number, workspaceId?: string): Promise<CustodyArchiveTable[]> {
    // '' sorts before every timestamp on both dialects, so never-scrubbed rows lead.
    let q = this.#store.db
      .selectFrom('custody_archive')
      .selectAll()
      .where('deleted_at', 'is', null)
      .orderBy(sql`coalesce(last_scrub_at, '')`)
      .orderBy('sha256');
    if (workspaceId !== undefined) q = q.where('workspace_id', '=', workspaceId);
    if (limit !== undefined) q = q.limit(limit);
    return q.execute();
  }
}
