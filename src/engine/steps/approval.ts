// The approval step: park the run until a human decides. The first attempt returns a waiting
// outcome with the rendered request; the runtime re-invokes the step with the decision.
import { CustosError } from '../../errors/index.ts';
import type { ApprovalStep } from '../definition/types.ts';
import { renderText } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { now, type StepExecution } from './common.ts';
import { parseDuration } from './duration.ts';

function rejected(step: ApprovalStep, output: { decision: string; reason: string }): StepOutcome {
  if (step.onReject !== undefined) return { kind: 'completed', output, next: step.onReject };
  throw new CustosError('ENGINE_APPROVAL_REJECTED', `Approval ${step.id} was not granted`, {
    details: { field: step.id, rule: output.reason },
  });
}

/**
 * Execute an approval step. Without a decision: waiting `approval` (resumeAt = expiry). With one:
 * completed (approved), `next: onReject` or ENGINE_APPROVAL_REJECTED (rejected or expired).
 */
export function executeApproval(step: ApprovalStep, { runtime }: StepExecution): StepOutcome {
  const resume = runtime.resume;
  if (resume?.kind === 'approval') {
    const output = { decision: resume.decision, decidedBy: resume.decidedBy, decidedAt: resume.decidedAt };
    if (resume.decision === 'approved') return { kind: 'completed', output };
    return rejected(step, { ...output, reason: 'rejected' });
  }
  if (resume?.kind === 'approval-expired') {
    return rejected(step, { decision: 'expired', reason: 'expired' });
  }
  const message = renderText(step.message, runtime.scope);
  const expires =
    step.expiresAfter === undefined
      ? undefined
      : new Date(now(runtime).getTime() + parseDuration(step.expiresAfter));
  return {
    kind: 'waiting',
    reason: 'approval',
    ...(expires === undefined ? {} : { resumeAt: expires.toISOString() }),
    request: { message, approvers: [...step.approvers] },
  };
}
