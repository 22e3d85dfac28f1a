// The run and step state machine as pure functions: what happens before a step (proceed, cancel,
// halt, release) and after it (advance, succeed, wait, retry, dead-letter). No I/O here.
import { CustosError } from '../../errors/index.ts';
import { backoffDelay, type FailureInfo } from './retry.ts';
import { END_STEP, type CompiledStep, type RunStatus } from './types.ts';

/** Where a run stands: the position on its path, the step there and the attempt at it. */
export interface Cursor {
  readonly seq: number;
  readonly stepId: string;
  readonly attempt: number;
  /** First attempt of the current retry budget (a manual retry opens a new budget). */
  readonly attemptFloor: number;
}

/** What one attempt came to, as the driver saw it. */
export type Verdict =
  | { readonly kind: 'completed'; readonly next: string | undefined }
  | { readonly kind: 'waiting'; readonly resumeAt: string | undefined }
  | { readonly kind: 'failed'; readonly failure: FailureInfo }
  | { readonly kind: 'cancelled' };

export type Transition =
  | { readonly kind: 'advance'; readonly seq: number; readonly stepId: string }
  | { readonly kind: 'succeed' }
  | { readonly kind: 'wait'; readonly until: string }
  | { readonly kind: 'retry'; readonly attempt: number; readonly at: string; readonly delayMs: number }
  | { readonly kind: 'dead_letter'; readonly code: string }
  | { readonly kind: 'cancel' };

/** What to do before starting the step at the cursor. */
export type Gate =
  | { readonly kind: 'proceed' }
  | { readonly kind: 'cancel' }
  | { readonly kind: 'halt'; readonly reason: string }
  | { readonly kind: 'release' };

/** A waiting run with no resume time (approvals) is parked here until something resumes it. */
export const PARKED_UNTIL = '9999-12-31T23:59:59.999Z';

const FINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'dead_lettered', 'cancelled']);

export function isFinal(status: RunStatus): boolean {
  return FINAL.has(status);
}

/** A cancel request applies to every state that is not final. */
export function canCancel(status: RunStatus): boolean {
  return !isFinal(status);
}

/** Manual retry revives dead-lettered runs and halted ones (after their kill switch is released). */
export function canRetry(status: RunStatus): boolean {
  return status === 'dead_lettered' || status === 'halted';
}

/** Cancellation wins over a kill switch, which wins over a graceful stop. */
export function beforeStep(flags: {
  readonly cancelRequested: boolean;
  readonly killSwitch: string | undefined;
  readonly stopping: boolean;
}): Gate {
  if (flags.cancelRequested) return { kind: 'cancel' };
  if (flags.killSwitch !== undefined) return { kind: 'halt', reason: flags.killSwitch };
  if (flags.stopping) return { kind: 'release' };
  return { kind: 'proceed' };
}

/**
 * The successor of `step`: the outcome's choice, else the step's own `next`, else the following step
 * in the list. Returns undefined at the end. Throws RUNTIME_STEP_UNKNOWN for a name that is no step.
 */
export function successor(
  steps: readonly CompiledStep[],
  step: CompiledStep,
  chosen: string | undefined,
): string | undefined {
  const target = chosen ?? step.next;
  if (target === END_STEP) return undefined;
  if (target === undefined) {
    const index = steps.findIndex((s) => s.id === step.id);
    return steps[index + 1]?.id;
  }
  if (!steps.some((s) => s.id === target)) {
    throw new CustosError('RUNTIME_STEP_UNKNOWN', 'A step named a successor the workflow does not have', {
      details: { field: `steps.${step.id}.next`, rule: 'existing step id or end' },
    });
  }
  return target;
}

/** The transition after one attempt of the step at `cursor`. */
export function afterStep(
  cursor: Cursor,
  step: CompiledStep,
  verdict: Verdict,
  now: number,
  random: () => number = Math.random,
): Transition {
  switch (verdict.kind) {
    case 'completed':
      return verdict.next === undefined
        ? { kind: 'succeed' }
        : { kind: 'advance', seq: cursor.seq + 1, stepId: verdict.next };
    case 'waiting':
      return { kind: 'wait', until: verdict.resumeAt ?? PARKED_UNTIL };
    case 'cancelled':
      return { kind: 'cancel' };
    case 'failed': {
      const used = cursor.attempt - cursor.attemptFloor + 1;
      if (!verdict.failure.retryable || used >= step.retry.maxAttempts) {
        return { kind: 'dead_letter', code: verdict.failure.code };
      }
      const delayMs = backoffDelay(step.retry, used, random);
      return {
        kind: 'retry',
        attempt: cursor.attempt + 1,
        at: new Date(now + delayMs).toISOString(),
        delayMs,
      };
    }
  }
}

/** The run status a transition leaves the run in. */
export function statusAfter(t: Transition): RunStatus {
  switch (t.kind) {
    case 'advance':
      return 'running';
    case 'succeed':
      return 'succeeded';
    case 'wait':
      return 'waiting';
    case 'retry':
      return 'retrying';
    case 'dead_letter':
      return 'dead_lettered';
    case 'cancel':
      return 'cancelled';
  }
}
