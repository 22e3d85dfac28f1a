// Shared types of the durable runtime: run and step states, retry policies, and the compiled view
// of a workflow version the runtime drives (built from a definition by the definitions module).
import type { JsonValue } from '../../crypto/index.ts';
import type { WorkflowDefinition } from '../definition/types.ts';
import type { StepOutcome, StepRuntime } from '../step-contract.ts';

/** Run states. `halted` (kill switch) and `waiting` resume; the last three are final. */
export type RunStatus =
  'queued' | 'running' | 'retrying' | 'waiting' | 'halted' | 'succeeded' | 'dead_lettered' | 'cancelled';

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'retrying',
  'waiting',
  'halted',
  'succeeded',
  'dead_lettered',
  'cancelled',
];

/** One attempt's state in the step log. */
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'waiting' | 'interrupted' | 'cancelled';

export type TriggerKind = 'webhook' | 'schedule' | 'manual' | 'api' | 'subflow';

/** Retry with exponential backoff and jitter; `maxAttempts` counts the first attempt. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Fraction of each delay drawn at random (0 = none, 1 = full jitter). */
  readonly jitter: number;
}

/** A field's label for redaction: its classification and, for personal data, its category. */
export interface FieldLabel {
  readonly classification: 'public' | 'internal' | 'confidential' | 'restricted';
  readonly category?: string;
}

/** Top-level input field name → label (from the workflow's data schema). */
export type FieldLabels = Readonly<Record<string, FieldLabel>>;

/** What the runtime needs to know about one step; the executor knows the rest. */
export interface CompiledStep {
  readonly id: string;
  readonly kind: string;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  /** Connector the step calls out through, for per-connector kill switches. */
  readonly connector?: string;
  /** Successor when the outcome names none: a step id, or undefined to end the run. */
  readonly next?: string;
}

/** How a workflow is started, as the runtime wires it. */
export type CompiledTrigger =
  | { readonly kind: 'manual' }
  | { readonly kind: 'webhook' }
  | {
      readonly kind: 'schedule';
      readonly cron: string;
      readonly timezone?: string;
      /** Input of every scheduled run (checked against the data schema at deploy). */
      readonly input?: Readonly<Record<string, JsonValue>>;
    };

/** A parsed, validated workflow version, ready to run. */
export interface CompiledWorkflow {
  readonly name: string;
  readonly owner: string;
  readonly trigger: CompiledTrigger;
  readonly steps: readonly CompiledStep[];
  readonly labels: FieldLabels;
  /** The definition steps receive as `runtime.workflow`. */
  readonly definition: WorkflowDefinition;
  /** Check a trigger input against the data schema. Throws INPUT_INVALID (or the schema's own code). */
  checkInput?(input: JsonValue): void;
  /** Run one attempt of `step`. Throws for failures; the runtime classifies and retries. */
  execute(step: CompiledStep, runtime: StepRuntime): Promise<StepOutcome>;
}

/** The marker a step outcome uses to end the run early. */
export const END_STEP = 'end';

/** A run as callers see it (input and outputs stay sealed in the store). */
export interface RunSummary {
  readonly runId: string;
  readonly workspaceId: string;
  readonly environment: string;
  readonly workflow: string;
  readonly version: number;
  readonly owner: string;
  readonly status: RunStatus;
  readonly trigger: TriggerKind;
  readonly correlationId: string;
  readonly stepId: string | null;
  readonly attempt: number;
  readonly errorCode: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt: string | null;
}

/** One attempt in the run log; summaries are redacted by classification before they are stored. */
export interface StepLogEntry {
  readonly seq: number;
  readonly stepId: string;
  readonly kind: string;
  readonly attempt: number;
  readonly outcome: StepStatus;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly errorCode: string | null;
  readonly inputSummary: JsonValue;
  readonly outputSummary: JsonValue;
}

export interface RunView extends RunSummary {
  readonly steps: readonly StepLogEntry[];
}
