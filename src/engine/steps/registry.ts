// Dispatch of one step attempt to the executor of its kind, with cancellation checked before and
// the output size checked after. The runtime calls this (through createStepExecutor) and nothing else.
import { CustosError } from '../../errors/index.ts';
import type { StepDefinition, WorkflowDefinition } from '../definition/types.ts';
import type { StepOutcome, StepRuntime } from '../step-contract.ts';
import { executeAi } from './ai.ts';
import { executeApproval } from './approval.ts';
import { executeBranch } from './branch.ts';
import { executeCode } from './code.ts';
import { checkOutput, throwIfAborted, type StepExecution } from './common.ts';
import { executeDelay } from './delay.ts';
import { executeExport } from './export.ts';
import { executeHttp } from './http.ts';
import { executeStore } from './store.ts';
import { executeSubflow } from './subflow.ts';
import { executeTransform } from './transform.ts';

function dispatch(step: StepDefinition, execution: StepExecution): Promise<StepOutcome> | StepOutcome {
  switch (step.kind) {
    case 'http':
      return executeHttp(step, execution);
    case 'transform':
      return executeTransform(step, execution);
    case 'branch':
      return executeBranch(step, execution);
    case 'code':
      return executeCode(step, execution);
    case 'store':
      return executeStore(step, execution);
    case 'ai':
      return executeAi(step, execution);
    case 'approval':
      return executeApproval(step, execution);
    case 'subflow':
      return executeSubflow(step, execution);
    case 'delay':
      return executeDelay(step, execution);
    case 'export':
      return executeExport(step, execution);
    default: {
      const kind = (step as { kind?: unknown }).kind;
      throw new CustosError('ENGINE_STEP_KIND_UNKNOWN', 'Step has an unknown kind', {
        details: {
          field: 'kind',
          rule: `one of the step kinds`,
          kind: typeof kind === 'string' ? kind.slice(0, 32) : '',
        },
      });
    }
  }
}

/**
 * Run one attempt of `step` of `workflow`. Throws ENGINE_STEP_ABORTED, ENGINE_STEP_KIND_UNKNOWN,
 * ENGINE_STEP_OUTPUT_TOO_LARGE and whatever the step kind throws (see each executor).
 */
export async function executeStep(
  step: StepDefinition,
  runtime: StepRuntime,
  workflow: WorkflowDefinition,
): Promise<StepOutcome> {
  throwIfAborted(runtime.signal);
  const outcome = await dispatch(step, { runtime, workflow });
  if (outcome.kind === 'completed') checkOutput(outcome.output);
  return outcome;
}

/**
 * Bind the executors to one workflow version: `(stepId, runtime) => outcome`, what the runtime's
 * compiled workflow calls. Throws RUNTIME_STEP_UNKNOWN for an id the version does not have.
 */
export function createStepExecutor(
  workflow: WorkflowDefinition,
): (stepId: string, runtime: StepRuntime) => Promise<StepOutcome> {
  const byId = new Map(workflow.steps.map((s) => [s.id, s]));
  return (stepId, runtime) => {
    const step = byId.get(stepId);
    if (step === undefined) {
      return Promise.reject(
        new CustosError('RUNTIME_STEP_UNKNOWN', 'The workflow version has no such step', {
          details: { field: 'stepId', rule: 'a step of this version' },
        }),
      );
    }
    return executeStep(step, runtime, workflow);
  };
}
