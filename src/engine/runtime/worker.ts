// A worker: claims due runs under a lease, drives each (up to `concurrency` at once), renews the
// leases it holds and relays cancellation. Embedded mode runs one in-process; cluster mode runs
// `custos worker` processes against PostgreSQL.
import { randomBytes } from '../../crypto/index.ts';
import type { Store } from '../../store/index.ts';
import { claimRuns, renewLeases, type ClaimedRun } from './lease.ts';
import { driveRun, type DriveResult, type DriverDeps, type StopReason } from './run-driver.ts';

export interface WorkerOptions {
  /** Unique per process; defaults to a random id. */
  readonly id?: string;
  /** Runs driven at once. Default 4. */
  readonly concurrency?: number;
  /** How long a claim holds without renewal; a dead worker's runs are taken over after it. Default 30 s. */
  readonly leaseMs?: number;
  /** Idle poll interval. Default 250 ms. */
  readonly pollMs?: number;
  /** Called after each run a worker stops driving (tests, progress output). */
  readonly onDriven?: (runId: string, result: DriveResult) => void;
}

interface Held {
  readonly claimed: ClaimedRun;
  readonly controller: AbortController;
}

export class Worker {
  readonly id: string;
  readonly #store: Store;
  readonly #deps: DriverDeps;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #onDriven: ((runId: string, result: DriveResult) => void) | undefined;
  readonly #held = new Map<string, Held>();
  readonly #tasks = new Set<Promise<void>>();
  #running = false;
  #stopping = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(store: Store, deps: DriverDeps, options: WorkerOptions = {}) {
    this.id = options.id ?? `w-${randomBytes(6).toString('hex')}`;
    this.#store = store;
    this.#deps = deps;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#leaseMs = Math.max(100, options.leaseMs ?? 30_000);
    this.#pollMs = Math.max(1, options.pollMs ?? 250);
    this.#onDriven = options.onDriven;
  }

  /** Start claiming and driving runs in the background. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#heartbeat = setInterval(
      () => {
        void this.#renew();
      },
      Math.max(20, Math.floor(this.#leaseMs / 3)),
    );
    this.#heartbeat.unref();
    this.#loop = this.#run();
  }

  /** Wake an idle worker now (a run was just created in this process). */
  notify(): void {
    this.#wake?.();
  }

  /** How many runs this worker is driving. */
  get inFlight(): number {
    return this.#held.size;
  }

  /**
   * Stop: claim nothing more; runs finish their current step and are given back. After `graceMs`
   * the remaining steps are aborted and left to the next claimer.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#stopping = true;
    this.#running = false;
    this.notify();
    await this.#loop;
    const drained = Promise.all([...this.#tasks]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        resolve('late');
      }, graceMs);
    });
    if ((await Promise.race([drained.then(() => 'done' as const), late])) === 'late') {
      for (const h of this.#held.values()) h.controller.abort({ kind: 'shutdown' } satisfies StopReason);
      await drained;
    }
    clearTimeout(timer);
    clearInterval(this.#heartbeat);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.#concurrency - this.#held.size;
      let claimed: ClaimedRun[] = [];
      if (free > 0) {
        try {
          claimed = await claimRuns(this.#store, this.id, this.#leaseMs, free, this.#deps.clock());
        } catch (err) {
          this.#deps.logger.error('claiming runs failed', { err, worker: this.id });
        }
      }
      for (const c of claimed) this.#drive(c);
      if (claimed.length > 0 && claimed.length === free) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#pollMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  #drive(claimed: ClaimedRun): void {
    const controller = new AbortController();
    const runId = claimed.lease.runId;
    this.#held.set(runId, { claimed, controller });
    const task = driveRun(claimed, this.#deps, {
      workerId: this.id,
      signal: controller.signal,
      stopping: () => this.#stopping,
    })
      .then((result) => {
        this.#onDriven?.(runId, result);
      })
      .catch((err: unknown) => {
        // The run keeps its lease until it expires; then any worker resumes it.
        this.#deps.logger.error('driving a run failed', { err, runId, worker: this.id });
      })
      .finally(() => {
        this.#held.delete(runId);
        this.#tasks.delete(task);
        this.notify();
      });
    this.#tasks.add(task);
  }

  async #renew(): Promise<void> {
    const held = [...this.#held.values()];
    if (held.length === 0) return;
    try {
      const checks = await renewLeases(
        this.#store,
        this.id,
        held.map((h) => h.claimed.lease),
        this.#leaseMs,
        this.#deps.clock(),
      );
      for (const check of checks) {
        const h = this.#held.get(check.runId);
        if (h === undefined || h.controller.signal.aborted) continue;
        if (!check.held) {
          // Finished meanwhile (its row is no longer running) or taken over: either way, stop.
          if (!this.#tasksSettled(check.runId))
            h.controller.abort({ kind: 'lease_lost' } satisfies StopReason);
        } else if (check.cancelRequested) {
          h.controller.abort({ kind: 'cancel' } satisfies StopReason);
        }
      }
    } catch (err) {
      this.#deps.logger.warn('renewing leases failed', { err, worker: this.id });
    }
  }

  #tasksSettled(runId: string): boolean {
    return !this.#held.has(runId);
  }
}
