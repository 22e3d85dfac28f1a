// The delay step: wait for a duration or until a rendered timestamp. The runtime persists the wait
// and re-invokes the step with `resume` when the time has come.
import { CustosError } from '../../errors/index.ts';
import type { DelayStep } from '../definition/types.ts';
import { renderText } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { now, type StepExecution } from './common.ts';
import { parseDuration } from './duration.ts';

/** Execute a delay step: waiting until `resumeAt`, or completed once resumed or already due. */
export function executeDelay(step: DelayStep, { runtime }: StepExecution): StepOutcome {
  const resume = runtime.resume;
  if (resume?.kind === 'delay') return { kind: 'completed', output: { resumedAt: resume.at } };
  const current = now(runtime);
  let resumeAt: number;
  if (step.duration !== undefined) {
    resumeAt = current.getTime() + parseDuration(step.duration);
  } else {
    resumeAt = Date.parse(renderText(step.until ?? '', runtime.scope));
    if (!Number.isFinite(resumeAt)) {
      throw new CustosError('ENGINE_EXPRESSION_FAILED', 'Delay `until` did not render to a timestamp', {
        details: { field: 'until', rule: 'ISO 8601 timestamp' },
      });
    }
  }
  if (resumeAt <= current.getTime()) {
    return { kind: 'completed', output: { resumedAt: current.toISOString() } };
  }
  return { kind: 'waiting', reason: 'delay', resumeAt: new Date(resumeAt).toISOString() };
}
