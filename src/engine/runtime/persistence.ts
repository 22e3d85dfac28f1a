// Persistence of runs and their step log. Every transition is one transaction fenced by the lease
// epoch: a worker that lost its lease cannot commit, so each step's result is committed once.
import type { Kysely, Selectable, Transaction } from 'kysely';
import { CustosError } from '../../errors/index.ts';
import type { Database } from '../../store/index.ts';
import type { Cursor, Transition } from './state-machine.ts';
import type { StepStatus, TriggerKind } from './types.ts';

export type RunRow = Selectable<Database['runs']>;
export type StepRow = Selectable<Database['run_steps']>;

/** The right to drive one run, held by one worker until `epoch` changes. */
export interface Lease {
  readonly runId: string;
  readonly owner: string;
  readonly epoch: number;
}

export interface NewRun {
  readonly id: string;
  readonly workspaceId: string;
  readonly environment: string;
  readonly workflow: string;
  readonly version: number;
  readonly owner: string;
  readonly trigger: TriggerKind;
  readonly triggerKey: string | null;
  readonly input: string;
  readonly correlationId: string;
  readonly traceparent: string;
  readonly firstStep: string;
  readonly createdBy: string;
  readonly now: string;
}

export interface StepStart {
  readonly cursor: Cursor;
  readonly kind: string;
  readonly worker: string;
  readonly inputSummary: string;
  readonly now: string;
}

export interface StepEnd {
  readonly status: Exclude<StepStatus, 'running'>;
  readonly now: string;
  readonly durationMs: number;
  readonly errorCode?: string;
  readonly retryable?: boolean;
  readonly output?: string;
  readonly outputSummary?: string;
  readonly nextStep?: string;
}

/** A decision on the approval attempt a run waits at (see approvals.ts). */
export interface ApprovalWrite {
  readonly runId: string;
  readonly seq: number;
  readonly attempt: number;
  /** The attempt's summary as read before deciding; the write is refused if it changed since. */
  readonly previousSummary: string | null;
  /** The new summary: the request with the decision (ids and digests only). */
  readonly summary: string;
  /** The reason text, sealed under the run's data key. */
  readonly sealedReason: string;
  readonly now: string;
}

export interface RunFilter {
  readonly workspaceId: string;
  readonly workflow?: string;
  readonly status?: string;
  readonly limit?: number;
}

/** Idempotency key prefix of child runs: `subflow:<parent run id>.<step id>`. */
export const SUBFLOW_KEY_PREFIX = 'subflow:';
const SUBFLOW_KEY = /^subflow:([0-9a-f-]{36})\./;

/**
 * A child run reached a final state: queue its parent if it waits (for this child, at its subflow
 * step). Runs in the child's final transaction, after the child's row was written (so its lock is
 * held); the parent's wait locks the child's row first too (see `transition`).
 */
async function wakeParent(trx: Kysely<Database>, childId: string, now: string): Promise<void> {
  const child = await trx
    .selectFrom('runs')
    .select(['trigger_kind', 'trigger_key'])
    .where('id', '=', childId)
    .executeTakeFirst();
  if (child?.trigger_kind !== 'subflow' || child.trigger_key === null) return;
  const parent = SUBFLOW_KEY.exec(child.trigger_key)?.[1];
  if (parent === undefined) return;
  await trx
    .updateTable('runs')
    .set({ status: 'queued', next_at: now, updated_at: now })
    .where('id', '=', parent)
    .where('status', '=', 'waiting')
    .execute();
}

const FINAL_STATUSES = ['succeeded', 'dead_lettered', 'cancelled'] as const;

function leaseLost(): CustosError {
  return new CustosError('RUNTIME_LEASE_LOST', 'The run was taken over by another worker', {
    details: { rule: 'lease epoch unchanged' },
  });
}

/** Runs and step rows in the store; no decisions are made here. */
export class RunStore {
  readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /**
   * Insert a run, or return the run that already holds its trigger key. `before` runs in the same
   * transaction (e.g. recording a webhook receipt) so either both persist or neither does.
   */
  async insert(
    run: NewRun,
    before?: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<{ readonly inserted: boolean; readonly row: RunRow }> {
    return this.db.transaction().execute(async (trx) => {
      if (run.triggerKey !== null) {
        const existing = await this.#byKey(trx, run);
        if (existing !== undefined) return { inserted: false, row: existing };
      }
      if (before !== undefined) await before(trx);
      const row = await trx
        .insertInto('runs')
        .values({
          id: run.id,
          workspace_id: run.workspaceId,
          environment: run.environment,
          workflow: run.workflow,
          version: run.version,
          owner: run.owner,
          status: 'queued',
          trigger_kind: run.trigger,
          trigger_key: run.triggerKey,
          input: run.input,
          correlation_id: run.correlationId,
          traceparent: run.traceparent,
          seq: 0,
          step_id: run.firstStep,
          attempt: 1,
          next_at: run.now,
          lease_owner: null,
          lease_expires_at: null,
          error_code: null,
          created_by: run.createdBy,
          created_at: run.now,
          updated_at: run.now,
          ended_at: null,
        })
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'environment', 'workflow', 'trigger_key'])
            .where('trigger_key', 'is not', null)
            .doNothing(),
        )
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) return { inserted: true, row };
      const existing = await this.#byKey(trx, run);
      if (existing === undefined) throw new CustosError('STORE_CONFLICT', 'Run could not be created');
      return { inserted: false, row: existing };
    });
  }

  async #byKey(db: Kysely<Database>, run: NewRun): Promise<RunRow | undefined> {
    return db
      .selectFrom('runs')
      .selectAll()
      .where('workspace_id', '=', run.workspaceId)
      .where('environment', '=', run.environment)
      .where('workflow', '=', run.workflow)
      .where('trigger_key', '=', run.triggerKey)
      .executeTakeFirst();
  }

  async byTriggerKey(
    workspaceId: string,
    environment: string,
    workflow: string,
    key: string,
  ): Promise<RunRow | undefined> {
    return this.db
      .selectFrom('runs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('environment', '=', environment)
      .where('workflow', '=', workflow)
      .where('trigger_key', '=', key)
      .executeTakeFirst();
  }

  async get(runId: string): Promise<RunRow | undefined> {
    return this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  }

  async list(filter: RunFilter): Promise<RunRow[]> {
    let q = this.db.selectFrom('runs').selectAll().where('workspace_id', '=', filter.workspaceId);
    if (filter.workflow !== undefined) q = q.where('workflow', '=', filter.workflow);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status as RunRow['status']);
    return q
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(Math.min(Math.max(filter.limit ?? 50, 1), 1000))
      .execute();
  }

  async steps(runId: string): Promise<StepRow[]> {
    return this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('seq')
      .orderBy('attempt')
      .execute();
  }

  /** Committed results on the run's path before `seq`, in order. */
  async committed(runId: string, beforeSeq: number): Promise<StepRow[]> {
    return this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .where('seq', '<', beforeSeq)
      .where('status', '=', 'succeeded')
      .orderBy('seq')
      .execute();
  }

  async attempt(runId: string, seq: number, attempt: number): Promise<StepRow | undefined> {
    return this.db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .where('seq', '=', seq)
      .where('attempt', '=', attempt)
      .executeTakeFirst();
  }

  /**
   * Record the start of an attempt (fenced). Returns whether cancellation was requested meanwhile.
   * Throws RUNTIME_LEASE_LOST.
   */
  async beginStep(lease: Lease, start: StepStart): Promise<{ readonly cancelRequested: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const run = await trx
        .updateTable('runs')
        .set({
          step_id: start.cursor.stepId,
          attempt: start.cursor.attempt,
          attempt_floor: start.cursor.attemptFloor,
          updated_at: start.now,
        })
        .where('id', '=', lease.runId)
        .where('lease_epoch', '=', lease.epoch)
        .returning('cancel_requested')
        .executeTakeFirst();
      if (run === undefined) throw leaseLost();
      await trx
        .insertInto('run_steps')
        .values({
          run_id: lease.runId,
          seq: start.cursor.seq,
          attempt: start.cursor.attempt,
          step_id: start.cursor.stepId,
          kind: start.kind,
          status: 'running',
          worker: start.worker,
          started_at: start.now,
          ended_at: null,
          duration_ms: null,
          error_code: null,
          retryable: null,
          input_summary: start.inputSummary,
          output_summary: null,
          output: null,
          next_step: null,
        })
        .execute();
      return { cancelRequested: run.cancel_requested !== 0 };
    });
  }

  /**
   * Close the attempt at `cursor` (when `end` is given) and apply `transition` to the run, in one
   * fenced transaction. Throws RUNTIME_LEASE_LOST when another worker holds the run now.
   */
  async transition(
    lease: Lease,
    cursor: Cursor,
    end: StepEnd | undefined,
    transition: Transition,
    meta: { readonly workspaceId: string; readonly workflow: string; readonly now: string },
    /** A wait for this child run (subflow): if it has ended already, queue the run again at once. */
    waitFor?: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const released = { lease_owner: null, lease_expires_at: null, updated_at: meta.now };
      // Waiting for a child: read its status under its row lock, before touching this run's row,
      // in the order the child's own final transaction takes them (its row, then ours). If the
      // child is ending right now, this waits for it and sees the end; if it ends later, its
      // transaction finds this run waiting and queues it. Either way no wake-up is lost.
      let childEnded = false;
      if (transition.kind === 'wait' && waitFor !== undefined) {
        const child = await trx
          .updateTable('runs')
          .set((eb) => ({ updated_at: eb.ref('updated_at') }))
          .where('id', '=', waitFor)
          .returning('status')
          .executeTakeFirst();
        childEnded = child === undefined || (FINAL_STATUSES as readonly string[]).includes(child.status);
      }
      let update;
      switch (transition.kind) {
        case 'advance':
          update = {
            status: 'running' as const,
            seq: transition.seq,
            step_id: transition.stepId,
            attempt: 1,
            attempt_floor: 1,
            updated_at: meta.now,
          };
          break;
        case 'succeed':
          update = { ...released, status: 'succeeded' as const, seq: cursor.seq + 1, ended_at: meta.now };
          break;
        case 'wait':
          update = childEnded
            ? { ...released, status: 'queued' as const, next_at: meta.now }
            : { ...released, status: 'waiting' as const, next_at: transition.until };
          break;
        case 'retry':
          update = {
            ...released,
            status: 'retrying' as const,
            attempt: transition.attempt,
            next_at: transition.at,
          };
          break;
        case 'dead_letter':
          update = {
            ...released,
            status: 'dead_lettered' as const,
            error_code: transition.code,
            ended_at: meta.now,
          };
          break;
        case 'cancel':
          update = {
            ...released,
            status: 'cancelled' as const,
            error_code: 'RUNTIME_RUN_CANCELLED',
            ended_at: meta.now,
          };
          break;
      }
      const fenced = await trx
        .updateTable('runs')
        .set(update)
        .where('id', '=', lease.runId)
        .where('lease_epoch', '=', lease.epoch)
        .executeTakeFirst();
      if (fenced.numUpdatedRows === 0n) throw leaseLost();
      if (
        transition.kind === 'succeed' ||
        transition.kind === 'dead_letter' ||
        transition.kind === 'cancel'
      ) {
        await wakeParent(trx, lease.runId, meta.now);
      }
      if (end !== undefined) {
        await trx
          .updateTable('run_steps')
          .set({
            status: end.status,
            ended_at: end.now,
            duration_ms: end.durationMs,
            error_code: end.errorCode ?? null,
            retryable: end.retryable === undefined ? null : end.retryable ? 1 : 0,
            output: end.output ?? null,
            output_summary: end.outputSummary ?? null,
            next_step: end.nextStep ?? null,
          })
          .where('run_id', '=', lease.runId)
          .where('seq', '=', cursor.seq)
          .where('attempt', '=', cursor.attempt)
          .execute();
      }
      if (transition.kind === 'dead_letter') {
        await trx
          .insertInto('dead_letters')
          .values({
            run_id: lease.runId,
            workspace_id: meta.workspaceId,
            workflow: meta.workflow,
            step_id: cursor.stepId,
            error_code: transition.code,
            created_at: meta.now,
            resolved_at: null,
          })
          .onConflict((oc) =>
            oc.column('run_id').doUpdateSet({
              step_id: cursor.stepId,
              error_code: transition.code,
              created_at: meta.now,
              resolved_at: null,
            }),
          )
          .execute();
      }
    });
  }

  /** Mark an attempt a crashed worker left running as interrupted (fenced by the new lease). */
  async interrupt(lease: Lease, cursor: Cursor, now: string, startedAt: string): Promise<void> {
    const durationMs = Math.max(0, Date.parse(now) - Date.parse(startedAt));
    await this.db
      .updateTable('run_steps')
      .set({
        status: 'interrupted',
        ended_at: now,
        duration_ms: durationMs,
        error_code: 'RUNTIME_STEP_INTERRUPTED',
      })
      .where('run_id', '=', lease.runId)
      .where('seq', '=', cursor.seq)
      .where('attempt', '=', cursor.attempt)
      .where('status', '=', 'running')
      .execute();
  }

  /** Give the run back without finishing it: `queued` (graceful stop) or `halted` (kill switch). */
  async release(
    lease: Lease,
    status: 'queued' | 'halted',
    now: string,
    errorCode: string | null,
  ): Promise<void> {
    const result = await this.db
      .updateTable('runs')
      .set({
        status,
        lease_owner: null,
        lease_expires_at: null,
        next_at: now,
        updated_at: now,
        error_code: errorCode,
      })
      .where('id', '=', lease.runId)
      .where('lease_epoch', '=', lease.epoch)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw leaseLost();
  }

  /**
   * Cancel a run no worker holds, or flag a held one so its worker stops. Returns the status after.
   */
  async requestCancel(runId: string, now: string): Promise<RunRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const idle = await trx
        .updateTable('runs')
        .set({
          status: 'cancelled',
          cancel_requested: 1,
          error_code: 'RUNTIME_RUN_CANCELLED',
          ended_at: now,
          updated_at: now,
        })
        .where('id', '=', runId)
        .where('status', 'in', ['queued', 'retrying', 'waiting', 'halted'])
        .returningAll()
        .executeTakeFirst();
      if (idle !== undefined) {
        await wakeParent(trx, runId, now);
        return idle;
      }
      return trx
        .updateTable('runs')
        .set({ cancel_requested: 1, updated_at: now })
        .where('id', '=', runId)
        .where('status', '=', 'running')
        .returningAll()
        .executeTakeFirst();
    });
  }

  /**
   * Record an approval decision on the waiting attempt and queue the run to resume, in one
   * transaction. Returns undefined, writing nothing, when the run no longer waits at that attempt
   * (decided, expired or cancelled meanwhile) or its request has expired.
   */
  async decideApproval(write: ApprovalWrite): Promise<RunRow | undefined> {
    const undecided = new CustosError('RUNTIME_APPROVAL_ALREADY_DECIDED', 'Approval was already decided');
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('runs')
          .set({ status: 'queued', next_at: write.now, updated_at: write.now })
          .where('id', '=', write.runId)
          .where('status', '=', 'waiting')
          .where('seq', '=', write.seq)
          .where('attempt', '=', write.attempt)
          // An expired request is the worker's to resume (as expired), not anyone's to decide.
          .where('next_at', '>', write.now)
          .returningAll()
          .executeTakeFirst();
        if (row === undefined) return undefined;
        let q = trx
          .updateTable('run_steps')
          .set({ output_summary: write.summary, output: write.sealedReason })
          .where('run_id', '=', write.runId)
          .where('seq', '=', write.seq)
          .where('attempt', '=', write.attempt)
          .where('status', '=', 'waiting');
        q =
          write.previousSummary === null
            ? q.where('output_summary', 'is', null)
            : q.where('output_summary', '=', write.previousSummary);
        const step = await q.executeTakeFirst();
        // Rolls the run update back: the attempt is not the one the decision was made for.
        if (step.numUpdatedRows === 0n) throw undecided;
        return row;
      });
    } catch (err) {
      if (err === undecided) return undefined;
      throw err;
    }
  }

  /** Re-queue a dead-lettered run (new attempt, fresh retry budget) or a halted one (same attempt). */
  async requeue(runId: string, now: string): Promise<RunRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const halted = await trx
        .updateTable('runs')
        .set({ status: 'queued', next_at: now, error_code: null, updated_at: now })
        .where('id', '=', runId)
        .where('status', '=', 'halted')
        .returningAll()
        .executeTakeFirst();
      if (halted !== undefined) return halted;
      const row = await trx
        .updateTable('runs')
        .set((eb) => ({
          status: 'queued',
          attempt: eb('attempt', '+', 1),
          attempt_floor: eb('attempt', '+', 1),
          next_at: now,
          error_code: null,
          ended_at: null,
          updated_at: now,
        }))
        .where('id', '=', runId)
        .where('status', '=', 'dead_lettered')
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) {
        await trx.updateTable('dead_letters').set({ resolved_at: now }).where('run_id', '=', runId).execute();
      }
      return row;
    });
  }
}
