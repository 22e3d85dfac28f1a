// The export step: run a saved export definition (custody) as this run, with a rendered purpose.
// The runtime produces the signed bundle, archives it and records its chain of custody in the
// workspace ledger; the step's output names the bundle, never the exported records.
import { CustosError } from '../../errors/index.ts';
import type { ExportStep } from '../definition/types.ts';
import { renderText } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { throwIfAborted, type StepExecution } from './common.ts';

/**
 * Execute an export step; the output is `{ exportId, sha256, archived, definition }`. Throws
 * ENGINE_STEP_ABORTED, INPUT_INVALID (purpose renders empty or multi-line) and the custody errors
 * of the export service (definition not found, export denied, bad recipient).
 */
export async function executeExport(step: ExportStep, { runtime }: StepExecution): Promise<StepOutcome> {
  const purpose = renderText(step.purpose, runtime.scope).trim();
  if (purpose === '' || purpose.length > 512 || /\p{Cc}/u.test(purpose)) {
    throw new CustosError('INPUT_INVALID', `Step ${step.id}: the purpose must render to one line`, {
      details: { field: `steps/${step.id}/purpose`, rule: 'one printable line of at most 512 characters' },
    });
  }
  throwIfAborted(runtime.signal);
  const result = await runtime.services.export.exportBundle(
    {
      definition: step.definition,
      ...(step.definitionVersion === undefined ? {} : { version: step.definitionVersion }),
      purpose,
      ...(step.recipients === undefined ? {} : { recipients: step.recipients }),
    },
    runtime.signal,
  );
  return {
    kind: 'completed',
    output: {
      exportId: result.exportId,
      sha256: result.sha256,
      archived: result.archived,
      definition: step.definition,
    },
  };
}
