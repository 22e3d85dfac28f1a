// Starting a run: the one path every trigger (manual, API, webhook, schedule, subflow) goes through.
// Checks kill switches and the input, honours the idempotency key, seals the input, then persists.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { canonicalJson, type JsonValue } from '../../../crypto/index.ts';
import { CustosError } from '../../../errors/index.ts';
import type { Actor, AuditSink } from '../../../ledger/index.ts';
import type { RuntimeMetrics } from '../../../observe/metrics.ts';
import type { Database } from '../../../store/index.ts';
import type { KillSwitchProbe } from '../kill-switch.ts';
import type { PayloadCodec } from '../payload-codec.ts';
import type { RunRow, RunStore } from '../persistence.ts';
import { formatTraceparent, startTrace } from '../trace.ts';
import type { CompiledWorkflow, RunStatus, TriggerKind } from '../types.ts';
import type { WorkflowResolver } from '../workflows.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export interface TriggerDeps {
  readonly runs: RunStore;
  readonly codec: PayloadCodec;
  readonly workflows: WorkflowResolver;
  readonly killSwitches: KillSwitchProbe;
  readonly metrics: RuntimeMetrics;
  readonly audit: AuditSink;
  readonly clock: () => number;
  /** Told about every new run (wakes the in-process worker). */
  readonly onCreated?: (runId: string) => void;
}

export interface TriggerRequest {
  readonly workspaceId: string;
  readonly environment: string;
  readonly workflow: string;
  readonly input: JsonValue;
  readonly trigger: TriggerKind;
  readonly actor: Actor;
  /** Same key, same workflow and environment: the same run (a different input is a conflict). */
  readonly idempotencyKey?: string;
  /** Incoming W3C traceparent to continue. */
  readonly traceparent?: string;
  /** Extra writes in the run's transaction (a webhook receipt). */
  readonly before?: (trx: Transaction<Database>) => Promise<void>;
}

export interface TriggerResult {
  readonly runId: string;
  readonly status: RunStatus;
  /** False when the idempotency key named an existing run. */
  readonly created: boolean;
  readonly correlationId: string;
}

/** Connectors a workflow calls out through. */
export function connectorsOf(workflow: CompiledWorkflow): string[] {
  return [...new Set(workflow.steps.flatMap((s) => (s.connector === undefined ? [] : [s.connector])))];
}

/**
 * Start a run of the deployed version. Throws RUNTIME_WORKFLOW_NOT_DEPLOYED, RUNTIME_KILL_SWITCH_ENGAGED,
 * RUNTIME_IDEMPOTENCY_CONFLICT, INPUT_INVALID (input not an object, bad key), and the workflow's input errors.
 */
export async function startRun(deps: TriggerDeps, request: TriggerRequest): Promise<TriggerResult> {
  const key = request.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new CustosError('INPUT_INVALID', 'Idempotency key must be 1-200 printable ASCII characters', {
      details: { field: 'idempotencyKey', rule: '^[\\x21-\\x7e]{1,200}$' },
    });
  }
  if (typeof request.input !== 'object' || request.input === null || Array.isArray(request.input)) {
    throw new CustosError('INPUT_INVALID', 'Run input must be a JSON object', {
      details: { field: 'input', rule: 'JSON object' },
    });
  }
  const { version, workflow } = await deps.workflows.deployed(
    request.workspaceId,
    request.environment,
    request.workflow,
  );
  const stopped = await deps.killSwitches.engaged({
    workspaceId: request.workspaceId,
    workflow: request.workflow,
    connectors: connectorsOf(workflow),
  });
  if (stopped !== undefined) {
    throw new CustosError('RUNTIME_KILL_SWITCH_ENGAGED', 'A kill switch refuses new runs of this workflow', {
      details: { field: 'workflow', rule: 'no engaged kill switch', switch: stopped },
    });
  }
  // A scheduled run's input is the one its deployed version declares, whatever the caller passed.
  const runInput: JsonValue =
    request.trigger === 'schedule'
      ? workflow.trigger.kind === 'schedule'
        ? (workflow.trigger.input ?? {})
        : {}
      : request.input;
  workflow.checkInput?.(runInput);
  const first = workflow.steps[0];
  if (first === undefined) {
    throw new CustosError('RUNTIME_STEP_UNKNOWN', 'Workflow has no steps', { details: { field: 'steps' } });
  }
  if (key !== undefined) {
    const existing = await deps.runs.byTriggerKey(
      request.workspaceId,
      request.environment,
      request.workflow,
      key,
    );
    if (existing !== undefined) return sameRun(deps, existing, runInput);
  }
  const runId = randomUUID();
  const trace = startTrace(request.traceparent);
  const keyId = await deps.codec.newKey(request.workspaceId);
  const input = await deps.codec.seal(
    { workspaceId: request.workspaceId, runId, slot: 'input' },
    keyId,
    runInput,
  );
  const now = new Date(deps.clock()).toISOString();
  const { inserted, row } = await deps.runs.insert(
    {
      id: runId,
      workspaceId: request.workspaceId,
      environment: request.environment,
      workflow: request.workflow,
      version,
      owner: workflow.owner,
      trigger: request.trigger,
      triggerKey: key ?? null,
      input,
      correlationId: trace.traceId,
      traceparent: formatTraceparent(trace),
      firstStep: first.id,
      createdBy: `${request.actor.kind}:${request.actor.id}`,
      now,
    },
    request.before,
  );
  if (!inserted) return sameRun(deps, row, runInput);
  deps.metrics.runStarted(
    { workflow: request.workflow, owner: workflow.owner, environment: request.environment },
    request.trigger,
  );
  await deps.audit.record(request.workspaceId, {
    time: now,
    actor: request.actor,
    action: 'run.start',
    resource: { kind: 'run', id: runId },
    outcome: 'success',
    correlationId: trace.traceId,
    details: {
      workflow: request.workflow,
      version,
      environment: request.environment,
      trigger: request.trigger,
    },
  });
  deps.onCreated?.(runId);
  return { runId, status: 'queued', created: true, correlationId: trace.traceId };
}

/** The run an idempotency key already names, if the input is the same. */
async function sameRun(deps: TriggerDeps, row: RunRow, input: JsonValue): Promise<TriggerResult> {
  const stored = await deps.codec.open(
    { workspaceId: row.workspace_id, runId: row.id, slot: 'input' },
    row.input,
  );
  if (canonicalJson(stored) !== canonicalJson(input)) {
    throw new CustosError(
      'RUNTIME_IDEMPOTENCY_CONFLICT',
      'The idempotency key was used for a different input',
      {
        details: { field: 'idempotencyKey', rule: 'same input for the same key' },
      },
    );
  }
  return { runId: row.id, status: row.status, created: false, correlationId: row.correlation_id };
}
