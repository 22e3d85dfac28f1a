// The code step: user JavaScript in the QuickJS sandbox, given a rendered JSON input (default
// `{ input, steps }`) and only the helper modules the step asks for.
import type { JsonValue } from '../../crypto/index.ts';
import type { CodeStep } from '../definition/types.ts';
import { renderJson } from '../expressions/render.ts';
import { runSandbox } from '../sandbox/run.ts';
import type { ExpressionScope, StepOutcome } from '../step-contract.ts';
import type { StepExecution } from './common.ts';

function defaultInput(scope: ExpressionScope): JsonValue {
  const steps: Record<string, JsonValue> = {};
  for (const [id, s] of Object.entries(scope.steps)) steps[id] = { output: s.output };
  return { input: scope.input, steps };
}

/**
 * Execute a code step. Throws ENGINE_SANDBOX_TIMEOUT, ENGINE_SANDBOX_MEMORY, ENGINE_SANDBOX_ERROR,
 * ENGINE_SANDBOX_OUTPUT_INVALID, ENGINE_STEP_ABORTED, ENGINE_EXPRESSION_* (input template).
 */
export async function executeCode(step: CodeStep, { runtime }: StepExecution): Promise<StepOutcome> {
  const input =
    step.input === undefined ? defaultInput(runtime.scope) : renderJson(step.input, runtime.scope);
  const output = await runSandbox({
    source: step.source,
    input,
    helpers: step.helpers ?? [],
    signal: runtime.signal,
    ...(step.limits?.memoryBytes === undefined ? {} : { memoryBytes: step.limits.memoryBytes }),
    ...(step.limits?.timeoutMs === undefined ? {} : { timeoutMs: step.limits.timeoutMs }),
  });
  return { kind: 'completed', output };
}
