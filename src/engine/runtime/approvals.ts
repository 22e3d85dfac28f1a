// Human decisions on approval steps: who may decide (not the run's starter, one of the step's
// approvers), the decision stored with the re-queue in one transaction, and the resume it becomes.
import { sha256Hex, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { DEFINITION_PATTERNS, type StepDefinition } from '../definition/index.ts';
import type { StepResume } from '../step-contract.ts';
import type { RunRow, StepRow } from './persistence.ts';
import type { ControlDeps } from './run-control.ts';
import { runSummaryOf } from './run-log.ts';
import type { RunSummary } from './types.ts';
import type { WorkflowResolver } from './workflows.ts';

export const MAX_REASON_CHARS = 2000;

export interface ApprovalDeps extends ControlDeps {
  readonly workflows: WorkflowResolver;
}

export interface ApprovalRequest {
  readonly workspaceId: string;
  readonly runId: string;
  /** The approval step the caller means; refused when the run waits elsewhere. */
  readonly stepId?: string;
  readonly decision: 'approve' | 'reject';
  /** Why; stored sealed with the run, on the ledger as a SHA-256 digest and a length only. */
  readonly reason: string;
  readonly actor: Actor;
  /**
   * Roles (or groups) the actor holds in the workspace, matched against the step's `approvers`.
   * `all`: the local operator, who holds every role of the installation it runs on.
   */
  readonly roles: readonly string[] | 'all';
}

/** The decision part of an approval attempt's summary: ids and digests, never the reason text. */
interface StoredDecision {
  readonly decision: 'approved' | 'rejected';
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly reason: { readonly sha256: string; readonly length: number };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSummary(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function decisionOf(row: StepRow): StoredDecision | undefined {
  const d = parseSummary(row.output_summary)?.decision;
  if (!isRecord(d)) return undefined;
  const { decision, decidedBy, decidedAt } = d;
  if (decision !== 'approved' && decision !== 'rejected') return undefined;
  if (typeof decidedBy !== 'string' || typeof decidedAt !== 'string') return undefined;
  const reason = isRecord(d.reason) ? d.reason : {};
  return {
    decision,
    decidedBy,
    decidedAt,
    reason: {
      sha256: typeof reason.sha256 === 'string' ? reason.sha256 : '',
      length: typeof reason.length === 'number' ? reason.length : 0,
    },
  };
}

/**
 * What ended an approval wait, read from the waiting attempt: the recorded decision, else the
 * request expired (the runtime only resumes an undecided approval when its time is up).
 */
export function approvalResume(row: StepRow, at: string): StepResume {
  const d = decisionOf(row);
  return d === undefined
    ? { kind: 'approval-expired', at }
    : { kind: 'approval', decision: d.decision, decidedBy: d.decidedBy, decidedAt: d.decidedAt };
}

/** The summary an approval wait is logged with: the redacted request the deciders see. */
export function approvalWaitSummary(request: JsonValue): string {
  return JSON.stringify({ request });
}

function actorKey(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}

/** The id part of a stored `kind:id` actor key. */
function actorIdOf(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(colon + 1);
}

function checkReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (text === '' || text.length > MAX_REASON_CHARS || !text.isWellFormed()) {
    throw new CustosError(
      'INPUT_INVALID',
      `A reason of 1 to ${String(MAX_REASON_CHARS)} characters is required`,
      {
        details: { field: 'reason', rule: `text of 1..${String(MAX_REASON_CHARS)} characters` },
      },
    );
  }
  return text;
}

function checkDecision(decision: unknown): 'approve' | 'reject' {
  if (decision !== 'approve' && decision !== 'reject') {
    throw new CustosError('INPUT_INVALID', 'decision must be approve or reject', {
      details: { field: 'decision', rule: 'approve | reject' },
    });
  }
  return decision;
}

const STEP_ID = new RegExp(DEFINITION_PATTERNS.stepId);

function checkStepId(stepId: string | undefined): string | undefined {
  if (stepId !== undefined && !STEP_ID.test(stepId)) {
    throw new CustosError('INPUT_INVALID', 'stepId is not a step id', {
      details: { field: 'stepId', rule: DEFINITION_PATTERNS.stepId },
    });
  }
  return stepId;
}

function notFound(): CustosError {
  return new CustosError('RUNTIME_RUN_NOT_FOUND', 'No such run in this workspace', {
    details: { field: 'runId', rule: 'existing run' },
  });
}

/** The most recent approval wait of the run (at `stepId` when given), decided or not. */
async function lastApprovalWait(
  deps: ApprovalDeps,
  runId: string,
  stepId: string | undefined,
): Promise<StepRow | undefined> {
  const steps = await deps.runs.steps(runId);
  return steps
    .filter(
      (s) =>
        s.kind === 'approval' && s.status === 'waiting' && (stepId === undefined || s.step_id === stepId),
    )
    .at(-1);
}

/** Why a run cannot be decided now: its last approval was decided already, or it waits for none. */
async function notDecidable(
  deps: ApprovalDeps,
  row: RunRow,
  stepId: string | undefined,
): Promise<CustosError> {
  if (row.status === 'waiting' && row.next_at <= new Date(deps.clock()).toISOString()) {
    return new CustosError('RUNTIME_APPROVAL_NOT_WAITING', 'The approval request has expired', {
      details: { field: 'runId', rule: 'approval request not expired', status: row.status },
    });
  }
  const last = await lastApprovalWait(deps, row.id, stepId);
  const decided = last === undefined ? undefined : decisionOf(last);
  if (decided !== undefined) {
    return new CustosError(
      'RUNTIME_APPROVAL_ALREADY_DECIDED',
      `The approval was already ${decided.decision}`,
      {
        details: { field: 'runId', rule: 'undecided approval', decision: decided.decision },
      },
    );
  }
  return new CustosError('RUNTIME_APPROVAL_NOT_WAITING', 'The run is not waiting for an approval', {
    details: {
      field: stepId === undefined ? 'runId' : 'stepId',
      rule: 'run waiting at an approval step',
      status: row.status,
    },
  });
}

async function approversOf(deps: ApprovalDeps, row: RunRow, stepId: string): Promise<readonly string[]> {
  const workflow = await deps.workflows.version(row.workspace_id, row.workflow, row.version);
  // Compiled stand-ins (tests) may carry no step definitions: then nobody is singled out.
  const steps: unknown = workflow.definition.steps;
  const step = Array.isArray(steps)
    ? (steps as readonly StepDefinition[]).find((s) => s.id === stepId)
    : undefined;
  return step?.kind === 'approval' ? step.approvers : [];
}

async function refuse(
  deps: ApprovalDeps,
  row: RunRow,
  request: ApprovalRequest,
  stepId: string,
  error: CustosError,
): Promise<never> {
  await deps.audit.record(row.workspace_id, {
    time: new Date(deps.clock()).toISOString(),
    actor: request.actor,
    action: 'approval.decide',
    resource: { kind: 'run', id: row.id },
    outcome: 'denied',
    correlationId: row.correlation_id,
    details: { workflow: row.workflow, step: stepId, decision: request.decision, code: error.code },
  });
  throw error;
}

/**
 * Approve or reject the approval step a run waits at. The decider must not be the actor who started
 * the run and, when the step names approvers, must hold one of them. The decision is written with
 * the run's re-queue in one transaction and recorded on the ledger (`approval.decide`, reason as a
 * digest); the step then resumes with it: approved completes, rejected fails the run (or takes the
 * step's `onReject`). Throws INPUT_INVALID, RUNTIME_RUN_NOT_FOUND, RUNTIME_APPROVAL_NOT_WAITING,
 * RUNTIME_APPROVAL_ALREADY_DECIDED, RUNTIME_APPROVAL_SELF_DECISION, RUNTIME_APPROVAL_NOT_APPROVER.
 */
export async function decideApproval(deps: ApprovalDeps, request: ApprovalRequest): Promise<RunSummary> {
  const decision = checkDecision(request.decision);
  const reason = checkReason(request.reason);
  const wanted = checkStepId(request.stepId);
  const row = await deps.runs.get(request.runId);
  if (row?.workspace_id !== request.workspaceId) throw notFound();
  const waiting =
    row.status === 'waiting' ? await deps.runs.attempt(row.id, row.seq, row.attempt) : undefined;
  if (
    waiting?.kind !== 'approval' ||
    waiting.status !== 'waiting' ||
    decisionOf(waiting) !== undefined ||
    (wanted !== undefined && wanted !== waiting.step_id) ||
    row.next_at <= new Date(deps.clock()).toISOString()
  ) {
    throw await notDecidable(deps, row, wanted);
  }
  const stepId = waiting.step_id;
  if (actorIdOf(row.created_by) === request.actor.id) {
    await refuse(
      deps,
      row,
      request,
      stepId,
      new CustosError('RUNTIME_APPROVAL_SELF_DECISION', 'Someone other than the run starter must decide', {
        details: { field: 'actor', rule: 'decider differs from the actor who started the run' },
      }),
    );
  }
  const approvers = await approversOf(deps, row, stepId);
  if (request.roles !== 'all' && approvers.length > 0 && !approvers.some((a) => request.roles.includes(a))) {
    await refuse(
      deps,
      row,
      request,
      stepId,
      new CustosError(
        'RUNTIME_APPROVAL_NOT_APPROVER',
        'The actor holds none of the approver roles of this step',
        {
          details: { field: 'actor', rule: `one of ${approvers.join(', ')}` },
        },
      ),
    );
  }
  const now = new Date(deps.clock()).toISOString();
  const stored: StoredDecision = {
    decision: decision === 'approve' ? 'approved' : 'rejected',
    decidedBy: actorKey(request.actor),
    decidedAt: now,
    reason: { sha256: sha256Hex(reason), length: reason.length },
  };
  const previous = parseSummary(waiting.output_summary) ?? {};
  const sealedReason = await deps.codec.seal(
    {
      workspaceId: row.workspace_id,
      runId: row.id,
      slot: `approval/${String(row.seq)}/${String(row.attempt)}`,
    },
    deps.codec.keyIdOf(row.input),
    reason,
  );
  const after = await deps.runs.decideApproval({
    runId: row.id,
    seq: row.seq,
    attempt: row.attempt,
    previousSummary: waiting.output_summary,
    summary: JSON.stringify({ ...previous, decision: stored }),
    sealedReason,
    now,
  });
  if (after === undefined) {
    // Decided, expired or cancelled between the read and the write: report what happened.
    const current = (await deps.runs.get(row.id)) ?? row;
    throw await notDecidable(deps, current, wanted);
  }
  await deps.audit.record(row.workspace_id, {
    time: now,
    actor: request.actor,
    action: 'approval.decide',
    resource: { kind: 'run', id: row.id },
    outcome: 'success',
    correlationId: row.correlation_id,
    details: {
      workflow: row.workflow,
      version: row.version,
      environment: row.environment,
      step: stepId,
      seq: row.seq,
      decision: stored.decision,
      reasonSha256: stored.reason.sha256,
      reasonLength: stored.reason.length,
    },
  });
  deps.onRequeued?.(row.id);
  return runSummaryOf(after);
}
