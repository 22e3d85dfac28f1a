// The branch step: the first case whose JSONata condition is truthy names the next step; otherwise
// `default`, else the following step in the list. The output records which case was taken.
import { END, type BranchStep } from '../definition/types.ts';
import { nextStepId } from '../definition/graph.ts';
import { compileJsonata, evaluateJsonata, isTruthy } from '../expressions/jsonata.ts';
import type { StepOutcome } from '../step-contract.ts';
import type { StepExecution } from './common.ts';

/** Execute a branch step. Throws ENGINE_EXPRESSION_* and ENGINE_STEP_ABORTED. */
export async function executeBranch(
  step: BranchStep,
  { runtime, workflow }: StepExecution,
): Promise<StepOutcome> {
  for (const [index, c] of step.cases.entries()) {
    const value = await evaluateJsonata(compileJsonata(c.when), runtime.scope, runtime.signal);
    if (isTruthy(value)) return { kind: 'completed', output: { case: index, next: c.next }, next: c.next };
  }
  const next = step.default ?? nextStepId(workflow, step.id) ?? END;
  return { kind: 'completed', output: { case: null, next }, next };
}
