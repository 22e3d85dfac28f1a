// The subflow step: start a child run of another workflow with a rendered input and wait for its
// result (the runtime decides how: in process or as a durable child run).
import type { SubflowStep } from '../definition/types.ts';
import { renderJson } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { throwIfAborted, type StepExecution } from './common.ts';

/** Execute a subflow step; the child's result is the output. Errors of the child run pass through. */
export async function executeSubflow(step: SubflowStep, { runtime }: StepExecution): Promise<StepOutcome> {
  const input = step.input === undefined ? {} : renderJson(step.input, runtime.scope);
  throwIfAborted(runtime.signal);
  const output = await runtime.services.subflow(step.workflow, input, runtime.signal);
  return { kind: 'completed', output };
}
