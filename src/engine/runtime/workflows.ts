// How the runtime finds the compiled workflow a run needs and the services its steps get.
// Implemented over the store by deploy.ts; unit tests pass in-memory versions.
import type { WorkflowDefinition } from '../definition/types.ts';
import type { StepServices } from '../step-contract.ts';
import type { CompiledWorkflow } from './types.ts';

export interface WorkflowResolver {
  /** The version serving new runs. Throws RUNTIME_WORKFLOW_NOT_DEPLOYED. */
  deployed(
    workspaceId: string,
    environment: string,
    name: string,
  ): Promise<{ readonly version: number; readonly workflow: CompiledWorkflow }>;
  /** A pinned version, for running and resuming. Throws RUNTIME_WORKFLOW_NOT_DEPLOYED. */
  version(workspaceId: string, name: string, version: number): Promise<CompiledWorkflow>;
}

/** What the runtime knows about the step a set of services is for. */
export interface StepContext {
  readonly workspaceId: string;
  readonly environment: string;
  readonly workflow: string;
  readonly runId: string;
  readonly stepId: string;
  readonly kind: string;
  readonly correlationId: string;
  readonly traceparent: string;
  /** The step attempt's idempotency key (`<runId>.<seq>`), stable across its attempts. */
  readonly idempotencyKey: string;
  /** The definition of the run's pinned version (connectors, data schema). */
  readonly definition: WorkflowDefinition;
}

/** Builds the capabilities one step attempt may use (egress, vault, record store, audit, logger). */
export type ServicesFactory = (context: StepContext) => StepServices;
