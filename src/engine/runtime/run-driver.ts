// Drives one claimed run through its steps: gate (cancel, kill switch, drain), start, execute with a
// timeout, commit, transition. Decisions come from state-machine.ts, writes from persistence.ts.
import type { JsonValue } from '../../crypto/index.ts';
import { isCustosError } from '../../errors/index.ts';
import type { AuditSink } from '../../ledger/index.ts';
import type { Logger } from '../../observe/index.ts';
import type { RunLabels, RuntimeMetrics } from '../../observe/metrics.ts';
import type { StepOutcome, StepResume, StepRuntime } from '../step-contract.ts';
import { approvalResume, approvalWaitSummary } from './approvals.ts';
import type { KillSwitchProbe } from './kill-switch.ts';
import type { ClaimedRun } from './lease.ts';
import type { PayloadCodec, PayloadScope } from './payload-codec.ts';
import type { Lease, RunRow, RunStore, StepEnd } from './persistence.ts';
import { classifyFailure, type FailureInfo } from './retry.ts';
import { createRedactor, type Redactor } from './run-log.ts';
import {
  afterStep,
  beforeStep,
  statusAfter,
  successor,
  type Cursor,
  type Transition,
  type Verdict,
} from './state-machine.ts';
import { childTraceparent } from './trace.ts';
import type { CompiledStep, CompiledWorkflow, RunStatus } from './types.ts';
import type { ServicesFactory, WorkflowResolver } from './workflows.ts';

export interface DriverDeps {
  readonly runs: RunStore;
  readonly codec: PayloadCodec;
  readonly workflows: WorkflowResolver;
  readonly services: ServicesFactory;
  readonly killSwitches: KillSwitchProbe;
  readonly metrics: RuntimeMetrics;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly random: () => number;
}

/** Why a worker stopped a run from outside. */
export type StopReason =
  { readonly kind: 'cancel' } | { readonly kind: 'lease_lost' } | { readonly kind: 'shutdown' };

export interface DriveControl {
  readonly workerId: string;
  /** Aborted with a {@link StopReason} when the run must stop at once. */
  readonly signal: AbortSignal;
  /** True once the worker drains: finish the current step, then give the run back. */
  stopping(): boolean;
}

/** How driving ended: a run status, or `released` when another worker (or later claim) continues. */
export type DriveResult = RunStatus | 'released';

interface RunState {
  readonly row: RunRow;
  readonly lease: Lease;
  readonly workflow: CompiledWorkflow;
  readonly input: JsonValue;
  readonly outputs: Record<string, { output: JsonValue }>;
  readonly keyId: string;
  readonly redactor: Redactor;
  readonly labels: RunLabels;
  previous: JsonValue;
  cursor: Cursor;
  /** What ended a wait, for the first attempt after it. */
  resume: StepResume | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function slot(row: RunRow, name: string): PayloadScope {
  return { workspaceId: row.workspace_id, runId: row.id, slot: name };
}

function reasonOf(signal: AbortSignal): StopReason | undefined {
  const r = signal.reason as StopReason | undefined;
  return signal.aborted && r !== undefined && typeof r === 'object' && 'kind' in r ? r : undefined;
}

/** Drive `claimed` until it finishes, waits, retries later, halts or is given back. */
export async function driveRun(
  claimed: ClaimedRun,
  deps: DriverDeps,
  control: DriveControl,
): Promise<DriveResult> {
  const { row, lease } = claimed;
  const labels: RunLabels = { workflow: row.workflow, owner: row.owner, environment: row.environment };
  const cursor: Cursor = {
    seq: row.seq,
    stepId: row.step_id ?? '',
    attempt: row.attempt,
    attemptFloor: row.attempt_floor,
  };
  let state: RunState;
  try {
    state = await loadState(claimed, deps, labels, cursor);
  } catch (err) {
    // The run's workflow or data cannot be loaded: nothing can succeed by retrying it here.
    const code = isCustosError(err) ? err.code : 'INTERNAL';
    return settle(deps, row, lease, cursor, undefined, { kind: 'dead_letter', code }, labels);
  }
  try {
    return await loop(state, deps, control);
  } catch (err) {
    if (isCustosError(err, 'RUNTIME_LEASE_LOST')) {
      deps.logger.debug('run taken over by another worker', { runId: row.id });
      return 'released';
    }
    throw err;
  }
}

async function loadState(
  claimed: ClaimedRun,
  deps: DriverDeps,
  labels: RunLabels,
  cursor: Cursor,
): Promise<RunState> {
  const { row, lease } = claimed;
  const workflow = await deps.workflows.version(row.workspace_id, row.workflow, row.version);
  const input = await deps.codec.open(slot(row, 'input'), row.input);
  const outputs: Record<string, { output: JsonValue }> = {};
  let previous: JsonValue = input;
  if (row.seq > 0) {
    for (const c of await deps.runs.committed(row.id, row.seq)) {
      const output = c.output === null ? null : await deps.codec.open(slot(row, `step/${c.seq}`), c.output);
      outputs[c.step_id] = { output };
      previous = output;
    }
  }
  return {
    row,
    lease,
    workflow,
    input,
    outputs,
    keyId: deps.codec.keyIdOf(row.input),
    redactor: createRedactor(input, workflow.labels),
    labels,
    previous,
    cursor,
    resume: undefined,
  };
}

async function loop(state: RunState, deps: DriverDeps, control: DriveControl): Promise<DriveResult> {
  const { row, lease, workflow } = state;
  // Recover what a previous holder left behind at the cursor.
  const left = await deps.runs.attempt(row.id, state.cursor.seq, state.cursor.attempt);
  if (left?.status === 'running') {
    const now = deps.clock();
    await deps.runs.interrupt(lease, state.cursor, iso(now), left.started_at);
    deps.metrics.stepFailed(state.labels, left.kind, 'RUNTIME_STEP_INTERRUPTED');
    const step = stepOf(workflow, state.cursor.stepId);
    const verdict: Verdict = {
      kind: 'failed',
      failure: { code: 'RUNTIME_STEP_INTERRUPTED', retryable: true },
    };
    const t =
      step === undefined
        ? deadLetter('RUNTIME_STEP_UNKNOWN')
        : afterStep(state.cursor, step, verdict, now, deps.random);
    if (t.kind !== 'retry') return settle(deps, row, lease, state.cursor, undefined, t, state.labels);
    // Resume at once with the next attempt: the crash already cost the time a backoff would.
    state.cursor = { ...state.cursor, attempt: t.attempt };
  } else if (left?.status === 'waiting') {
    // The wait came due: the step runs again, told what ended it, with a fresh retry budget.
    const at = iso(deps.clock());
    // An approval resumes with the decision recorded on its attempt, or expired when it has none.
    state.resume = left.kind === 'approval' ? approvalResume(left, at) : { kind: 'delay', at };
    const next = state.cursor.attempt + 1;
    state.cursor = { ...state.cursor, attempt: next, attemptFloor: next };
  }
  let cancelRequested = row.cancel_requested !== 0;
  for (;;) {
    const step = stepOf(workflow, state.cursor.stepId);
    if (step === undefined) {
      return settle(
        deps,
        row,
        lease,
        state.cursor,
        undefined,
        deadLetter('RUNTIME_STEP_UNKNOWN'),
        state.labels,
      );
    }
    const killSwitch = cancelRequested
      ? undefined
      : await deps.killSwitches.engaged({
          workspaceId: row.workspace_id,
          workflow: row.workflow,
          connectors: step.connector === undefined ? [] : [step.connector],
        });
    const gate = beforeStep({
      cancelRequested: cancelRequested || reasonOf(control.signal)?.kind === 'cancel',
      killSwitch,
      stopping: control.stopping(),
    });
    if (gate.kind === 'cancel')
      return settle(deps, row, lease, state.cursor, undefined, { kind: 'cancel' }, state.labels);
    if (gate.kind === 'halt') {
      await deps.runs.release(lease, 'halted', iso(deps.clock()), 'RUNTIME_KILL_SWITCH_ENGAGED');
      deps.logger.warn('run halted by kill switch', { runId: row.id, switch: gate.reason });
      return 'halted';
    }
    if (gate.kind === 'release') {
      await deps.runs.release(lease, 'queued', iso(deps.clock()), null);
      return 'released';
    }
    const started = deps.clock();
    const begun = await deps.runs.beginStep(lease, {
      cursor: state.cursor,
      kind: step.kind,
      worker: control.workerId,
      inputSummary: JSON.stringify(state.redactor.summary(state.previous)),
      now: iso(started),
    });
    cancelRequested = begun.cancelRequested;
    const result = cancelRequested
      ? ({ kind: 'cancelled' } as const)
      : await attempt(state, step, deps, control);
    state.resume = undefined;
    if (result.kind === 'stopped') {
      // Shutdown or lost lease: leave the attempt for the next holder, which marks it interrupted.
      return 'released';
    }
    const t = await commit(state, step, result, started, deps);
    if (t.kind !== 'advance') return finish(deps, row, t, state.labels);
    state.cursor = { seq: t.seq, stepId: t.stepId, attempt: 1, attemptFloor: 1 };
  }
}

type AttemptResult =
  | { readonly kind: 'completed'; readonly outcome: StepOutcome }
  | { readonly kind: 'failed'; readonly failure: FailureInfo }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'stopped' };

/** Run one attempt with the step's timeout; a step that ignores its signal is abandoned, not awaited. */
async function attempt(
  state: RunState,
  step: CompiledStep,
  deps: DriverDeps,
  control: DriveControl,
): Promise<AttemptResult> {
  const { row } = state;
  const timeout = AbortSignal.timeout(step.timeoutMs);
  const signal = AbortSignal.any([control.signal, timeout]);
  const traceparent = childTraceparent(row.traceparent);
  const idempotencyKey = `${row.id}.${String(state.cursor.seq)}`;
  const runtime: StepRuntime = {
    workspaceId: row.workspace_id,
    runId: row.id,
    stepId: step.id,
    attempt: state.cursor.attempt,
    correlationId: row.correlation_id,
    traceparent,
    idempotencyKey,
    signal,
    scope: {
      input: state.input,
      steps: state.outputs,
      run: { id: row.id, workflow: row.workflow, environment: row.environment },
    },
    ...(state.resume === undefined ? {} : { resume: state.resume }),
    services: deps.services({
      workspaceId: row.workspace_id,
      environment: row.environment,
      workflow: row.workflow,
      runId: row.id,
      stepId: step.id,
      kind: step.kind,
      correlationId: row.correlation_id,
      traceparent,
      idempotencyKey,
      definition: state.workflow.definition,
    }),
  };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = state.workflow.execute(step, runtime);
    running.catch(() => undefined);
    const outcome = await Promise.race([running, aborted]);
    return { kind: 'completed', outcome };
  } catch (err) {
    const stop = reasonOf(control.signal);
    if (stop?.kind === 'cancel') return { kind: 'cancelled' };
    if (stop !== undefined) return { kind: 'stopped' };
    if (timeout.aborted)
      return { kind: 'failed', failure: { code: 'RUNTIME_STEP_TIMEOUT', retryable: true } };
    return { kind: 'failed', failure: classifyFailure(err) };
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** Commit one attempt's result and apply the transition it leads to. */
async function commit(
  state: RunState,
  step: CompiledStep,
  result: Exclude<AttemptResult, { kind: 'stopped' }>,
  started: number,
  deps: DriverDeps,
): Promise<Transition> {
  const { row, lease } = state;
  const now = deps.clock();
  const durationMs = now - started;
  let verdict: Verdict;
  let end: StepEnd;
  let output: JsonValue | undefined;
  let waitFor: string | undefined;
  if (result.kind === 'completed' && result.outcome.kind === 'completed') {
    let next: string | undefined;
    try {
      next = successor(state.workflow.steps, step, result.outcome.next);
      output = result.outcome.output;
    } catch (err) {
      return commitFailure(state, step, classifyFailure(err), now, durationMs, deps);
    }
    verdict = { kind: 'completed', next };
    end = {
      status: 'succeeded',
      now: iso(now),
      durationMs,
      output: await deps.codec.seal(slot(row, `step/${state.cursor.seq}`), state.keyId, output),
      outputSummary: JSON.stringify(state.redactor.summary(output)),
      ...(next === undefined ? {} : { nextStep: next }),
    };
  } else if (result.kind === 'completed') {
    const waiting = result.outcome.kind === 'waiting' ? result.outcome : undefined;
    verdict = { kind: 'waiting', resumeAt: waiting?.resumeAt };
    waitFor = waiting?.child;
    end = {
      status: 'waiting',
      now: iso(now),
      durationMs,
      // The approval request (message, approver roles) as deciders see it, redacted like any summary.
      ...(waiting?.reason === 'approval' && waiting.request !== undefined
        ? { outputSummary: approvalWaitSummary(state.redactor.summary(waiting.request)) }
        : {}),
    };
  } else if (result.kind === 'cancelled') {
    verdict = { kind: 'cancelled' };
    end = { status: 'cancelled', now: iso(now), durationMs, errorCode: 'RUNTIME_RUN_CANCELLED' };
  } else {
    return commitFailure(state, step, result.failure, now, durationMs, deps);
  }
  const t = afterStep(state.cursor, step, verdict, now, deps.random);
  await deps.runs.transition(lease, state.cursor, end, t, meta(row, now), waitFor);
  deps.metrics.stepFinished(state.labels, step.kind, end.status, durationMs / 1000);
  if (output !== undefined) {
    state.outputs[step.id] = { output };
    state.previous = output;
  }
  return t;
}

async function commitFailure(
  state: RunState,
  step: CompiledStep,
  failure: FailureInfo,
  now: number,
  durationMs: number,
  deps: DriverDeps,
): Promise<Transition> {
  const t = afterStep(state.cursor, step, { kind: 'failed', failure }, now, deps.random);
  const end: StepEnd = {
    status: 'failed',
    now: iso(now),
    durationMs,
    errorCode: failure.code,
    retryable: failure.retryable,
  };
  await deps.runs.transition(state.lease, state.cursor, end, t, meta(state.row, now));
  deps.metrics.stepFinished(state.labels, step.kind, 'failed', durationMs / 1000);
  deps.metrics.stepFailed(state.labels, step.kind, failure.code);
  if (t.kind === 'retry') deps.metrics.stepRetried(state.labels, step.kind);
  deps.logger.warn('step attempt failed', {
    runId: state.row.id,
    step: step.id,
    attempt: state.cursor.attempt,
    code: failure.code,
    next: t.kind,
  });
  return t;
}

function stepOf(workflow: CompiledWorkflow, id: string): CompiledStep | undefined {
  return workflow.steps.find((s) => s.id === id);
}

function deadLetter(code: string): Transition {
  return { kind: 'dead_letter', code };
}

function meta(row: RunRow, now: number) {
  return { workspaceId: row.workspace_id, workflow: row.workflow, now: iso(now) };
}

/** Apply a final (or parking) transition without a step attempt to close. */
async function settle(
  deps: DriverDeps,
  row: RunRow,
  lease: Lease,
  cursor: Cursor,
  end: StepEnd | undefined,
  t: Transition,
  labels: RunLabels,
): Promise<DriveResult> {
  try {
    await deps.runs.transition(lease, cursor, end, t, meta(row, deps.clock()));
  } catch (err) {
    if (isCustosError(err, 'RUNTIME_LEASE_LOST')) return 'released';
    throw err;
  }
  return finish(deps, row, t, labels);
}

/** Report a transition that ends this holding of the run: metrics, audit, log. */
async function finish(deps: DriverDeps, row: RunRow, t: Transition, labels: RunLabels): Promise<DriveResult> {
  const status = statusAfter(t);
  if (status === 'succeeded' || status === 'dead_lettered' || status === 'cancelled') {
    deps.metrics.runFinished(labels, status);
    await deps.audit.record(row.workspace_id, {
      time: iso(deps.clock()),
      actor: { kind: 'system', id: 'runtime' },
      action: 'run.finish',
      resource: { kind: 'run', id: row.id },
      outcome: status === 'succeeded' ? 'success' : 'failure',
      correlationId: row.correlation_id,
      details: {
        workflow: row.workflow,
        version: row.version,
        environment: row.environment,
        status,
        ...(t.kind === 'dead_letter' ? { errorCode: t.code } : {}),
      },
    });
    deps.logger.info('run finished', { runId: row.id, workflow: row.workflow, status });
  }
  return status === 'running' ? 'released' : status;
}
