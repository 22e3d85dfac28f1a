// The subflow step: start a child run of another workflow with a rendered input, and park this run
// (freeing its worker) until the child ends: the child's end queues this run again, and the step
// then returns the child's result. A child that does not succeed fails the step.
import { CustosError } from '../../errors/index.ts';
import type { SubflowStep } from '../definition/types.ts';
import { renderJson } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { now, throwIfAborted, type StepExecution } from './common.ts';

/** How long a run waits for its child before the step fails. */
export const SUBFLOW_DEADLINE_MS = 24 * 60 * 60 * 1000;

/**
 * Execute a subflow step: completed with the child's output once it succeeded, waiting `subflow`
 * while it runs. Throws RUNTIME_SUBFLOW_FAILED (the child ended otherwise) and
 * RUNTIME_SUBFLOW_TIMEOUT (still running when the wait came due at its deadline).
 */
export async function executeSubflow(step: SubflowStep, { runtime }: StepExecution): Promise<StepOutcome> {
  const input = step.input === undefined ? {} : renderJson(step.input, runtime.scope);
  throwIfAborted(runtime.signal);
  const child = await runtime.services.subflow.start(step.workflow, input);
  const state = child.state;
  if (state.status === 'succeeded') return { kind: 'completed', output: state.output };
  if (state.status === 'failed') {
    throw new CustosError('RUNTIME_SUBFLOW_FAILED', `Subflow ${step.workflow} ended ${state.runStatus}`, {
      details: { field: step.id, rule: 'child run succeeds', status: state.runStatus, code: state.errorCode },
    });
  }
  if (runtime.resume !== undefined) {
    throw new CustosError(
      'RUNTIME_SUBFLOW_TIMEOUT',
      `Subflow ${step.workflow} is still running at its deadline`,
      {
        details: { field: step.id, rule: `child run ends within ${SUBFLOW_DEADLINE_MS / 3_600_000} h` },
      },
    );
  }
  return {
    kind: 'waiting',
    reason: 'subflow',
    resumeAt: new Date(now(runtime).getTime() + SUBFLOW_DEADLINE_MS).toISOString(),
    child: child.runId,
  };
}
