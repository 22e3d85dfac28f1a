// Validation of a definition value (from any source: file, API body): structure against the
// published schema, then the semantic checks. Reports every problem; nothing is persisted here.
import { CustosError, type ErrorProblem } from '../../errors/index.ts';
import { semanticProblems, type SemanticOptions } from './semantics.ts';
import { structuralProblems } from './structure.ts';
import type { WorkflowDefinition } from './types.ts';

export type ValidateOptions = SemanticOptions;

export type WorkflowCheck =
  | { readonly ok: true; readonly definition: WorkflowDefinition; readonly problems: readonly [] }
  | { readonly ok: false; readonly problems: readonly ErrorProblem[] };

/** Check a definition value and list every problem (JSON Pointers, no line numbers). Never throws for bad input. */
export function checkWorkflow(value: unknown, options: ValidateOptions = {}): WorkflowCheck {
  const structural = structuralProblems(value);
  if (structural.length > 0) return { ok: false, problems: structural };
  const definition = value as WorkflowDefinition;
  const semantic = semanticProblems(definition, options);
  return semantic.length > 0 ? { ok: false, problems: semantic } : { ok: true, definition, problems: [] };
}

/** The error for a list of problems: the first named in message and details, all in `problems`. */
export function definitionError(source: string, problems: readonly ErrorProblem[]): CustosError {
  const first = problems[0] ?? { field: '', rule: 'invalid' };
  const where =
    first.line === undefined ? first.field || '/' : `line ${first.line}, column ${first.column ?? 1}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new CustosError('ENGINE_DEFINITION_INVALID', `${source}: ${where}: ${first.rule}${more}`, {
    details: { ...first, field: first.field || '/', problems },
  });
}

/**
 * Validate a definition value and return it typed. Throws ENGINE_DEFINITION_INVALID listing every
 * problem in `details.problems`.
 */
export function validateWorkflow(
  value: unknown,
  options: ValidateOptions & { source?: string } = {},
): WorkflowDefinition {
  const result = checkWorkflow(value, options);
  if (!result.ok) throw definitionError(options.source ?? 'workflow', result.problems);
  return result.definition;
}
