// The archive scrubber: re-hashes a sample of archived blobs on a schedule (or all on demand),
// raises an alert and a ledger event on a mismatch, and repairs from the replica when the replica's
// copy still matches its address — recording the repair in the ledger too.
import { createHash } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import type { Actor, AuditSink } from '../ledger/index.ts';
import type { Archive } from './archive/archive.ts';
import type { BlobBackend } from './archive/backend.ts';
import { custodyEvent } from './events.ts';

export interface ScrubAlert {
  readonly sha256: string;
  readonly workspaceId: string;
  readonly location: string;
  readonly problem: 'missing' | 'mismatch';
  readonly repaired: boolean;
}

export interface ScrubResult {
  readonly checked: number;
  readonly ok: number;
  readonly failed: readonly ScrubAlert[];
  readonly repaired: number;
}

export interface ScrubberOptions {
  readonly archive: Archive;
  readonly audit: AuditSink;
  /** The actor scrubs run as (the system, or the operator who asked). */
  readonly actor: Actor;
  /** Share of the archive re-hashed per scheduled run, 0 < sample ≤ 1. */
  readonly sample?: number;
  /** At least this many blobs per scheduled run. */
  readonly minPerRun?: number;
  /** Only this workspace's bundles (default: the whole archive). */
  readonly workspaceId?: string;
  /** Called for every mismatch (wire to logging/alerting). */
  readonly onAlert?: (alert: ScrubAlert) => void;
}

/** The blob's SHA-256 (hex), or 'missing'. */
async function digestOf(backend: BlobBackend, sha256: string): Promise<string> {
  if (!(await backend.has(sha256))) return 'missing';
  const h = createHash('sha256');
  try {
    for await (const chunk of backend.read(sha256)) h.update(chunk);
  } catch (err) {
    if (err instanceof CustosError && err.code === 'CUSTODY_ARCHIVE_NOT_FOUND') return 'missing';
    throw err;
  }
  return h.digest('hex');
}

export class Scrubber {
  readonly #o: ScrubberOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ScrubResult> | undefined;

  constructor(options: ScrubberOptions) {
    const sample = options.sample ?? 0.05;
    if (!(sample > 0 && sample <= 1)) {
      throw new CustosError('CONFIG_INVALID', 'Scrub sample must be in (0, 1]', {
        details: { field: 'sample', rule: '0 < sample ≤ 1' },
      });
    }
    this.#o = options;
  }

  /** Re-hash the least recently scrubbed sample, or everything with `all`. One run at a time. */
  scrub(options: { all?: boolean; signal?: AbortSignal } = {}): Promise<ScrubResult> {
    this.#running ??= this.#run(options).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Run a sampled scrub every `intervalMs` until `signal` aborts (timer unref'd). */
  start(intervalMs: number, signal?: AbortSignal): void {
    this.stop();
    this.#timer = setInterval(() => {
      this.scrub({ ...(signal === undefined ? {} : { signal }) }).catch(() => undefined);
    }, intervalMs);
    this.#timer.unref();
    signal?.addEventListener('abort', () => {
      this.stop();
    });
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #run(options: { all?: boolean; signal?: AbortSignal }): Promise<ScrubResult> {
    const archive = this.#o.archive;
    let limit: number | undefined;
    if (options.all !== true) {
      const total = (await archive.scrubCandidates(undefined, this.#o.workspaceId)).length;
      limit = Math.max(this.#o.minPerRun ?? 1, Math.ceil(total * (this.#o.sample ?? 0.05)));
    }
    const rows = await archive.scrubCandidates(limit, this.#o.workspaceId);
    const failed: ScrubAlert[] = [];
    let ok = 0;
    let repaired = 0;
    for (const row of rows) {
      options.signal?.throwIfAborted();
      const locations = [archive.primary, archive.replica].filter((b): b is BlobBackend => b !== undefined);
      const results = await Promise.all(
        locations.map(async (b) => ({ backend: b, digest: await digestOf(b, row.sha256) })),
      );
      const good = results.find((r) => r.digest === row.sha256);
      let allOk = true;
      for (const r of results) {
        if (r.digest === row.sha256) continue;
        allOk = false;
        const problem = r.digest === 'missing' ? 'missing' : 'mismatch';
        await this.#o.audit.record(
          row.workspace_id,
          custodyEvent({
            action: 'custody.integrity-failed',
            actor: this.#o.actor,
            bundleSha256: row.sha256,
            ...(row.export_id === null ? {} : { exportId: row.export_id }),
            outcome: 'failure',
            details: { location: r.backend.name, problem },
          }),
        );
        let fixed = false;
        if (good !== undefined) {
          await r.backend.restore(row.sha256, good.backend.read(row.sha256));
          fixed = (await digestOf(r.backend, row.sha256)) === row.sha256;
          if (fixed) {
            repaired++;
            await this.#o.audit.record(
              row.workspace_id,
              custodyEvent({
                action: 'custody.repaired',
                actor: this.#o.actor,
                bundleSha256: row.sha256,
                ...(row.export_id === null ? {} : { exportId: row.export_id }),
                details: { location: r.backend.name, from: good.backend.name },
              }),
            );
          }
        }
        const alert: ScrubAlert = {
          sha256: row.sha256,
          workspaceId: row.workspace_id,
          location: r.backend.name,
          problem,
          repaired: fixed,
        };
        failed.push(alert);
        this.#o.onAlert?.(alert);
      }
      await archive.markScrubbed(row.sha256, allOk);
      if (allOk) ok++;
    }
    return { checked: rows.length, ok, failed, repaired };
  }
}
