// Exports that outlive the request that started them (the API's `Prefer: respond-async`): each job
// is a row holding its state, the records read so far and a heartbeat this process renews while the
// export runs. Any process reading a job whose heartbeat went stale (its process stopped or
// crashed) reports it as interrupted, so no job stays "running" forever. Failures keep only the
// error code: messages may name values, codes never do.
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import type { Store } from '../store/index.ts';
import type { CustodyExportJobsTable } from '../store/index.ts';

export type ExportJobState = CustodyExportJobsTable['state'];

export interface ExportJob {
  readonly exportId: string;
  readonly workspace: string;
  readonly definition: { readonly name: string; readonly version: number };
  readonly requestedBy: Actor;
  readonly state: ExportJobState;
  /** Records read so far (all of them once the job succeeded). */
  readonly records: number;
  /** The error code of a failed job. */
  readonly error: string | null;
  /** The archived bundle of a job that succeeded. */
  readonly bundle: { readonly sha256: string; readonly size: number } | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** What a job runs: the export itself, given an abort signal and a progress callback. */
export type ExportRun = (
  signal: AbortSignal,
  onProgress: (records: number) => void,
) => Promise<{ readonly bundleSha256: string; readonly size: number }>;

export interface ExportJobsOptions {
  readonly store: Store;
  /** How often a running job's row is renewed (records read, heartbeat). */
  readonly heartbeatMs?: number;
  /** A running job whose heartbeat is older than this is reported as interrupted. */
  readonly staleMs?: number;
  /** Background exports this process runs at once; more are refused (CUSTODY_EXPORT_BUSY). */
  readonly maxRunning?: number;
  readonly clock?: () => Date;
}

/** A place among the running jobs, held from before the export starts until its job ends. */
export interface ExportJobSlot {
  /** Record the job and run it in this slot (see ExportJobs.start). */
  start(job: JobStart, run: ExportRun): Promise<ExportJob>;
  /** Give the slot back unused (the export could not start). */
  release(): void;
}

interface JobStart {
  readonly exportId: string;
  readonly workspace: string;
  readonly definition: { readonly name: string; readonly version: number };
  readonly requestedBy: Actor;
}

const DEFAULT_HEARTBEAT_MS = 5_000;
const DEFAULT_STALE_MS = 60_000;
const DEFAULT_MAX_RUNNING = 2;
/** How long a finished job stays readable. */
const JOB_KEPT_MS = 30 * 86_400_000;
/** Pauses between tries of a job's final update (the last try is not followed by one). */
const FINAL_UPDATE_RETRIES_MS = [100, 500, 2000, 0];

function toJob(r: CustodyExportJobsTable, now: Date, staleMs: number): ExportJob {
  const stale = r.state === 'running' && Date.parse(r.heartbeat_at) < now.getTime() - staleMs;
  return {
    exportId: r.id,
    workspace: r.workspace_id,
    definition: { name: r.definition_name, version: r.definition_version },
    requestedBy: { kind: r.actor_kind as Actor['kind'], id: r.actor_id },
    state: stale ? 'interrupted' : r.state,
    records: r.records,
    error: stale ? 'CUSTODY_EXPORT_INTERRUPTED' : r.error_code,
    bundle: r.bundle_sha256 === null ? null : { sha256: r.bundle_sha256, size: r.bundle_size ?? 0 },
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

/** Background exports of one process, recorded in the store for every process to read. */
export class ExportJobs {
  readonly #store: Store;
  readonly #heartbeatMs: number;
  readonly #staleMs: number;
  readonly #clock: () => Date;
  readonly #maxRunning: number;
  /** Slots taken: running jobs and exports about to start. */
  #taken = 0;
  #closed = false;
  readonly #running = new Map<string, { readonly abort: AbortController; readonly done: Promise<void> }>();

  constructor(o: ExportJobsOptions) {
    this.#store = o.store;
    this.#heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#staleMs = o.staleMs ?? DEFAULT_STALE_MS;
    this.#clock = o.clock ?? (() => new Date());
    this.#maxRunning = o.maxRunning ?? DEFAULT_MAX_RUNNING;
  }

  /**
   * Take a slot for one more background export, before starting it. Throws CUSTODY_EXPORT_BUSY
   * when this process already runs as many as it may.
   */
  reserve(): ExportJobSlot {
    if (this.#closed) {
      throw new CustosError('CUSTODY_EXPORT_BUSY', 'The server is closing; try again later', {
        details: { field: 'Prefer', rule: 'no background export while the server closes' },
      });
    }
    if (this.#taken >= this.#maxRunning) {
      throw new CustosError(
        'CUSTODY_EXPORT_BUSY',
        'As many exports as allowed are running; try again later',
        {
          details: { field: 'Prefer', rule: `at most ${this.#maxRunning} background exports at once` },
        },
      );
    }
    this.#taken++;
    let held = true;
    const release = (): void => {
      if (held) this.#taken--;
      held = false;
    };
    return {
      start: async (job, run) => {
        try {
          const started = await this.#start(job, run);
          void started.done.finally(release);
          return started.job;
        } catch (err) {
          release();
          throw err;
        }
      },
      release,
    };
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  /**
   * Take a slot, record a new running job and start `run` in the background; resolves once the job
   * is recorded. The job ends as succeeded, failed (with the error's code) or, when this process
   * closes first, interrupted. Throws CUSTODY_EXPORT_BUSY.
   */
  async start(job: JobStart, run: ExportRun): Promise<ExportJob> {
    return this.reserve().start(job, run);
  }

  async #start(job: JobStart, run: ExportRun): Promise<{ job: ExportJob; done: Promise<void> }> {
    const now = this.#now();
    const row: CustodyExportJobsTable = {
      id: job.exportId,
      workspace_id: job.workspace,
      definition_name: job.definition.name,
      definition_version: job.definition.version,
      actor_kind: job.requestedBy.kind,
      actor_id: job.requestedBy.id,
      state: 'running',
      records: 0,
      error_code: null,
      bundle_sha256: null,
      bundle_size: null,
      created_at: now,
      heartbeat_at: now,
      finished_at: null,
    };
    await this.#store.db.insertInto('custody_export_jobs').values(row).execute();
    // Finished jobs are kept for a while (their bundles stay in the archive, and every export is in
    // the ledger); older ones go as new jobs of the workspace start.
    await this.#store.db
      .deleteFrom('custody_export_jobs')
      .where('workspace_id', '=', job.workspace)
      .where('state', '!=', 'running')
      .where('finished_at', '<', new Date(this.#clock().getTime() - JOB_KEPT_MS).toISOString())
      .execute();
    const abort = new AbortController();
    let records = 0;
    const beat = setInterval(() => {
      void this.#update(job.exportId, { records, heartbeat_at: this.#now() });
    }, this.#heartbeatMs);
    beat.unref();
    const done = (async () => {
      let end: Partial<CustodyExportJobsTable>;
      try {
        const r = await run(abort.signal, (n) => {
          records = n;
        });
        end = { state: 'succeeded', bundle_sha256: r.bundleSha256, bundle_size: r.size };
      } catch (err) {
        end = abort.signal.aborted
          ? { state: 'interrupted', error_code: 'CUSTODY_EXPORT_INTERRUPTED' }
          : { state: 'failed', error_code: err instanceof CustosError ? err.code : 'INTERNAL' };
      } finally {
        clearInterval(beat);
      }
      const now = this.#now();
      // The outcome must not be lost to a passing database error (the job would read as
      // interrupted a minute later and invite a second export): a few tries, spaced out.
      for (const wait of FINAL_UPDATE_RETRIES_MS) {
        if (await this.#update(job.exportId, { ...end, records, heartbeat_at: now, finished_at: now })) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
    // A job reserved before the process began closing is stopped as it starts: it ends interrupted.
    if (this.#closed) abort.abort();
    this.#running.set(job.exportId, { abort, done });
    void done.finally(() => this.#running.delete(job.exportId));
    return { job: toJob(row, this.#clock(), this.#staleMs), done };
  }

  /** Update a running job's row; false when the database refused (the caller may retry). */
  async #update(id: string, set: Partial<CustodyExportJobsTable>): Promise<boolean> {
    // Only a running job changes: a job reported interrupted by another process stays as it was.
    return this.#store.db
      .updateTable('custody_export_jobs')
      .set(set)
      .where('id', '=', id)
      .where('state', '=', 'running')
      .execute()
      .then(
        () => true,
        () => false,
      );
  }

  /** A job of the workspace. Throws CUSTODY_EXPORT_JOB_NOT_FOUND. */
  async get(workspace: string, exportId: string): Promise<ExportJob> {
    const row = await this.#store.db
      .selectFrom('custody_export_jobs')
      .selectAll()
      .where('id', '=', exportId)
      .where('workspace_id', '=', workspace)
      .executeTakeFirst();
    if (row === undefined) {
      throw new CustosError('CUSTODY_EXPORT_JOB_NOT_FOUND', 'No export job with this id in the workspace', {
        details: { field: 'exportId', rule: 'an export job of this workspace' },
      });
    }
    return toJob(row, this.#clock(), this.#staleMs);
  }

  /** The workspace's jobs, newest first (at most `limit`). */
  async list(workspace: string, limit = 100): Promise<ExportJob[]> {
    const rows = await this.#store.db
      .selectFrom('custody_export_jobs')
      .selectAll()
      .where('workspace_id', '=', workspace)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    const now = this.#clock();
    return rows.map((r) => toJob(r, now, this.#staleMs));
  }

  /** Jobs this process is running now (tests and shutdown). */
  get running(): number {
    return this.#running.size;
  }

  /** Wait for this process's jobs to finish (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.#running.values()].map((j) => j.done));
  }

  /** Stop this process's jobs: each ends as interrupted, its partial bundle removed by the export. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const j of this.#running.values()) j.abort.abort();
    await this.settled();
  }
}
