// Fires cron schedules: each due schedule starts one run (idempotency key = the fire time, so two
// schedulers racing start it once) and then moves to its next fire time with a compare-and-set.
import { isCustosError } from '../../errors/index.ts';
import type { Logger } from '../../observe/index.ts';
import type { Store } from '../../store/index.ts';
import type { TriggerRequest, TriggerResult } from './triggers/manual.ts';
import { nextFire, parseCron } from './triggers/cron.ts';

export interface SchedulerDeps {
  readonly store: Store;
  readonly start: (request: TriggerRequest) => Promise<TriggerResult>;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** Start the runs of every schedule due at `now`; returns how many schedules fired. */
export async function fireDueSchedules(deps: SchedulerDeps, now: number): Promise<number> {
  const at = new Date(now).toISOString();
  const due = await deps.store.db
    .selectFrom('schedules')
    .selectAll()
    .where('next_at', '<=', at)
    .limit(100)
    .execute();
  let fired = 0;
  for (const s of due) {
    try {
      await deps.start({
        workspaceId: s.workspace_id,
        environment: s.environment,
        workflow: s.workflow,
        input: {},
        trigger: 'schedule',
        actor: { kind: 'system', id: 'scheduler' },
        idempotencyKey: `schedule:${s.next_at}`,
      });
      fired++;
    } catch (err) {
      // A refused fire (kill switch, undeployed) is skipped, not retried forever.
      deps.logger.warn('scheduled run not started', {
        workflow: s.workflow,
        code: isCustosError(err) ? err.code : 'INTERNAL',
      });
    }
    // Missed fires while nothing ran collapse into the one just made.
    const next = new Date(
      nextFire(parseCron(s.cron), Math.max(now, Date.parse(s.next_at)), s.timezone),
    ).toISOString();
    await deps.store.db
      .updateTable('schedules')
      .set({ next_at: next, updated_at: at })
      .where('workspace_id', '=', s.workspace_id)
      .where('environment', '=', s.environment)
      .where('workflow', '=', s.workflow)
      .where('next_at', '=', s.next_at)
      .execute();
  }
  return fired;
}

/** Polls schedules on an interval in a worker process. */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  start(intervalMs = 1000): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#busy !== undefined) return;
      this.#busy = fireDueSchedules(this.#deps, this.#deps.clock())
        .then(() => undefined)
        .catch((err: unknown) => {
          this.#deps.logger.error('firing schedules failed', { err });
        })
        .finally(() => {
          this.#busy = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }
}
