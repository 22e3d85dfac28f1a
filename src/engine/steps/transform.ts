// The transform step: a JSONata expression over `{ input, steps, run }`, guarded in time, depth
// and size; its result is the step output.
import type { TransformStep } from '../definition/types.ts';
import { compileJsonata, DEFAULT_JSONATA_LIMITS, evaluateJsonata } from '../expressions/jsonata.ts';
import type { StepOutcome } from '../step-contract.ts';
import type { StepExecution } from './common.ts';

/**
 * Execute a transform step. Throws ENGINE_EXPRESSION_INVALID, ENGINE_EXPRESSION_FAILED,
 * ENGINE_EXPRESSION_LIMIT, ENGINE_STEP_ABORTED.
 */
export async function executeTransform(
  step: TransformStep,
  { runtime }: StepExecution,
): Promise<StepOutcome> {
  const limits = {
    ...DEFAULT_JSONATA_LIMITS,
    timeoutMs: Math.min(
      step.timeoutMs ?? DEFAULT_JSONATA_LIMITS.timeoutMs,
      DEFAULT_JSONATA_LIMITS.timeoutMs * 5,
    ),
  };
  const compiled = compileJsonata(step.expression, limits);
  const output = await evaluateJsonata(compiled, runtime.scope, runtime.signal, limits);
  return { kind: 'completed', output };
}
