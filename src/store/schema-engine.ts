// Row types of the durable runtime's tables (owned by engine/runtime/, declared here so the store
// knows its schema). Run inputs and step outputs are sealed; summaries are redacted before storage.
import type { ColumnType } from 'kysely';

/** An immutable, deployed workflow source; runs pin the version they started on. */
export interface WorkflowVersionsTable {
  workspace_id: string;
  name: string;
  version: number;
  digest: string;
  source: string;
  owner: string;
  created_by: string;
  created_at: string;
}

/** Which version of a workflow serves new runs in an environment. */
export interface WorkflowDeploymentsTable {
  workspace_id: string;
  environment: string;
  name: string;
  version: number;
  deployed_by: string;
  deployed_at: string;
}

export type RunStatusColumn =
  'queued' | 'running' | 'retrying' | 'waiting' | 'halted' | 'succeeded' | 'dead_lettered' | 'cancelled';

/** One run: its pinned workflow version, its cursor (seq, step, attempt) and its lease. */
export interface RunsTable {
  id: string;
  workspace_id: string;
  environment: string;
  workflow: string;
  version: number;
  owner: string;
  status: RunStatusColumn;
  trigger_kind: string;
  trigger_key: string | null;
  /** The trigger input, sealed under the run's data key. */
  input: string;
  correlation_id: string;
  traceparent: string;
  /** Position of the current step on the run's path (0-based); steps before it are committed. */
  seq: number;
  step_id: string | null;
  attempt: number;
  /** First attempt of the current retry budget; a manual retry starts a new one. */
  attempt_floor: ColumnType<number, number | undefined, number>;
  /** When the run may next be claimed (queued, retrying) or resumed (waiting). */
  next_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** Fencing token: bumped on every claim; a commit with an older epoch is refused. */
  lease_epoch: ColumnType<number, number | undefined, number>;
  cancel_requested: ColumnType<number, number | undefined, number>;
  error_code: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

export type StepStatusColumn = 'running' | 'succeeded' | 'failed' | 'waiting' | 'interrupted' | 'cancelled';

/** One attempt of one step of a run; the per-step execution log. */
export interface RunStepsTable {
  run_id: string;
  seq: number;
  attempt: number;
  step_id: string;
  kind: string;
  status: StepStatusColumn;
  worker: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error_code: string | null;
  retryable: number | null;
  input_summary: string | null;
  output_summary: string | null;
  /** The step output, sealed under the run's data key (succeeded attempts only). */
  output: string | null;
  next_step: string | null;
}

/** Runs whose last step failed for good, waiting for an operator to retry or discard them. */
export interface DeadLettersTable {
  run_id: string;
  workspace_id: string;
  workflow: string;
  step_id: string;
  error_code: string;
  created_at: string;
  resolved_at: string | null;
}

/** Digests of webhook signatures already accepted inside the replay window. */
export interface WebhookReceiptsTable {
  workspace_id: string;
  workflow: string;
  digest: string;
  received_at: string;
}

/** Cron triggers of deployed workflows and when each fires next. */
export interface SchedulesTable {
  workspace_id: string;
  environment: string;
  workflow: string;
  cron: string;
  timezone: string;
  next_at: string;
  updated_at: string;
}

export interface EngineTables {
  workflow_versions: WorkflowVersionsTable;
  workflow_deployments: WorkflowDeploymentsTable;
  runs: RunsTable;
  run_steps: RunStepsTable;
  dead_letters: DeadLettersTable;
  webhook_receipts: WebhookReceiptsTable;
  schedules: SchedulesTable;
}
