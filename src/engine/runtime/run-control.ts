// Operator actions and reads on runs: show (with the step log), list, cancel, retry, wait.
// Cancel and retry are audited; reads never open sealed payloads.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Actor, AuditSink } from '../../ledger/index.ts';
import type { PayloadCodec } from './payload-codec.ts';
import type { RunFilter, RunRow, RunStore } from './persistence.ts';
import { runSummaryOf, stepEntryOf } from './run-log.ts';
import { PARKED_UNTIL, canCancel, canRetry, isFinal } from './state-machine.ts';
import type { RunStatus, RunSummary, RunView } from './types.ts';

export interface ControlDeps {
  readonly runs: RunStore;
  readonly codec: PayloadCodec;
  readonly audit: AuditSink;
  readonly clock: () => number;
  readonly onRequeued?: (runId: string) => void;
}

function notFound(): CustosError {
  return new CustosError('RUNTIME_RUN_NOT_FOUND', 'No such run in this workspace', {
    details: { field: 'runId', rule: 'existing run' },
  });
}

async function load(deps: ControlDeps, workspaceId: string, runId: string): Promise<RunRow> {
  const row = await deps.runs.get(runId);
  if (row?.workspace_id !== workspaceId) throw notFound();
  return row;
}

/** The run with every attempt of every step. Throws RUNTIME_RUN_NOT_FOUND. */
export async function showRun(deps: ControlDeps, workspaceId: string, runId: string): Promise<RunView> {
  const row = await load(deps, workspaceId, runId);
  const steps = await deps.runs.steps(runId);
  return { ...runSummaryOf(row), steps: steps.map(stepEntryOf) };
}

export async function listRuns(deps: ControlDeps, filter: RunFilter): Promise<RunSummary[]> {
  return (await deps.runs.list(filter)).map(runSummaryOf);
}

async function audited(
  deps: ControlDeps,
  row: RunRow,
  actor: Actor,
  action: string,
  outcome: 'success' | 'failure',
): Promise<void> {
  await deps.audit.record(row.workspace_id, {
    time: new Date(deps.clock()).toISOString(),
    actor,
    action,
    resource: { kind: 'run', id: row.id },
    outcome,
    correlationId: row.correlation_id,
    details: { workflow: row.workflow, status: row.status },
  });
}

/**
 * Cancel a run: at once when no worker holds it, otherwise its worker aborts the current step.
 * Throws RUNTIME_RUN_NOT_FOUND, RUNTIME_RUN_FINISHED.
 */
export async function cancelRun(
  deps: ControlDeps,
  workspaceId: string,
  runId: string,
  actor: Actor,
): Promise<RunSummary> {
  const before = await load(deps, workspaceId, runId);
  if (!canCancel(before.status)) {
    throw new CustosError('RUNTIME_RUN_FINISHED', 'The run has already finished', {
      details: { field: 'runId', rule: 'run not finished', status: before.status },
    });
  }
  const after = await deps.runs.requestCancel(runId, new Date(deps.clock()).toISOString());
  if (after === undefined) {
    throw new CustosError('RUNTIME_RUN_FINISHED', 'The run finished before it could be cancelled', {
      details: { field: 'runId', rule: 'run not finished' },
    });
  }
  await audited(deps, after, actor, 'run.cancel', 'success');
  return runSummaryOf(after);
}

/**
 * Retry a dead-lettered run from its failed step (fresh retry budget), or resume a halted one.
 * Throws RUNTIME_RUN_NOT_FOUND, RUNTIME_RUN_NOT_RETRYABLE.
 */
export async function retryRun(
  deps: ControlDeps,
  workspaceId: string,
  runId: string,
  actor: Actor,
): Promise<RunSummary> {
  const before = await load(deps, workspaceId, runId);
  const notRetryable = () =>
    new CustosError('RUNTIME_RUN_NOT_RETRYABLE', 'Only dead-lettered or halted runs can be retried', {
      details: { field: 'runId', rule: 'status dead_lettered or halted', status: before.status },
    });
  if (!canRetry(before.status)) throw notRetryable();
  const after = await deps.runs.requeue(runId, new Date(deps.clock()).toISOString());
  if (after === undefined) throw notRetryable();
  await audited(deps, after, actor, 'run.retry', 'success');
  deps.onRequeued?.(runId);
  return runSummaryOf(after);
}

/** True when a run will not move without someone acting: final, halted, or parked for an approval. */
export function isSettled(row: { readonly status: RunStatus; readonly next_at: string }): boolean {
  return (
    isFinal(row.status) ||
    row.status === 'halted' ||
    (row.status === 'waiting' && row.next_at === PARKED_UNTIL)
  );
}

/**
 * Wait until the run settles (see {@link isSettled}). Throws RUNTIME_RUN_NOT_FOUND, RUNTIME_WAIT_TIMEOUT,
 * or the signal's reason when aborted.
 */
export async function waitForRun(
  deps: ControlDeps,
  workspaceId: string,
  runId: string,
  options: { readonly timeoutMs?: number; readonly pollMs?: number; readonly signal?: AbortSignal } = {},
): Promise<RunView> {
  const deadline = deps.clock() + (options.timeoutMs ?? 5 * 60_000);
  const pollMs = options.pollMs ?? 50;
  for (;;) {
    const row = await load(deps, workspaceId, runId);
    if (isSettled(row)) return showRun(deps, workspaceId, runId);
    if (deps.clock() >= deadline) {
      throw new CustosError('RUNTIME_WAIT_TIMEOUT', 'The run did not finish in time', {
        details: { field: 'timeout', rule: 'run finished before the timeout', status: row.status },
      });
    }
    options.signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * The output of a succeeded run: its last step's output, unsealed (for subflows and trusted callers;
 * never printed by the CLI or API). Throws RUNTIME_RUN_NOT_FOUND, RUNTIME_RUN_NOT_RETRYABLE when not succeeded.
 */
export async function runResult(deps: ControlDeps, workspaceId: string, runId: string): Promise<JsonValue> {
  const row = await load(deps, workspaceId, runId);
  if (row.status !== 'succeeded') {
    throw new CustosError('RUNTIME_STEP_FAILED', 'The run has no result: it did not succeed', {
      details: { field: 'runId', rule: 'succeeded run', status: row.status },
    });
  }
  const last = (await deps.runs.committed(runId, row.seq)).at(-1);
  if (last?.output == null) return null;
  return deps.codec.open({ workspaceId, runId, slot: `step/${last.seq}` }, last.output);
}
