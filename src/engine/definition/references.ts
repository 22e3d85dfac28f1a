// Where a definition holds expressions, and whether each reference in them is allowed: declared
// data fields, earlier steps only, declared secrets only in http header values, known run facts.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError, type ErrorProblem } from '../../errors/index.ts';
import { compileJsonata } from '../expressions/jsonata.ts';
import { parseTemplate, templateReferences, type Reference } from '../expressions/template.ts';
import { echo, pointerToken } from './structure.ts';
import type { StepDefinition, WorkflowDefinition } from './types.ts';

/** Where a template sits decides what it may reference. */
export type TemplateSite = 'header' | 'text';

export interface TemplateLocation {
  readonly pointer: string;
  readonly text: string;
  readonly site: TemplateSite;
}

export interface JsonataLocation {
  readonly pointer: string;
  readonly source: string;
}

const RUN_FACTS = new Set(['id', 'workflow', 'environment']);

/** Every template string inside a JSON template value. */
function jsonTemplates(value: JsonValue | undefined, pointer: string, out: TemplateLocation[]): void {
  if (typeof value === 'string') {
    if (value.includes('{{')) out.push({ pointer, text: value, site: 'text' });
  } else if (Array.isArray(value)) {
    (value as readonly JsonValue[]).forEach((v, i) => {
      jsonTemplates(v, `${pointer}/${i}`, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) jsonTemplates(v, `${pointer}/${pointerToken(k)}`, out);
  }
}

function textTemplate(
  text: string | undefined,
  pointer: string,
  out: TemplateLocation[],
  site: TemplateSite = 'text',
) {
  if (text?.includes('{{') === true) out.push({ pointer, text, site });
}

/** The templates of one step, with their JSON Pointers. */
export function stepTemplates(step: StepDefinition, at: string): readonly TemplateLocation[] {
  const out: TemplateLocation[] = [];
  switch (step.kind) {
    case 'http':
      textTemplate(step.path, `${at}/path`, out);
      for (const [k, v] of Object.entries(step.query ?? {}))
        textTemplate(v, `${at}/query/${pointerToken(k)}`, out);
      for (const [k, v] of Object.entries(step.headers ?? {})) {
        textTemplate(v, `${at}/headers/${pointerToken(k)}`, out, 'header');
      }
      jsonTemplates(step.body, `${at}/body`, out);
      break;
    case 'code':
      jsonTemplates(step.input, `${at}/input`, out);
      break;
    case 'store':
      if (step.action === 'put') jsonTemplates(step.record, `${at}/record`, out);
      else jsonTemplates(step.value, `${at}/value`, out);
      break;
    case 'ai':
      textTemplate(step.path, `${at}/path`, out);
      textTemplate(step.system, `${at}/system`, out);
      textTemplate(step.prompt, `${at}/prompt`, out);
      break;
    case 'approval':
      textTemplate(step.message, `${at}/message`, out);
      break;
    case 'subflow':
      jsonTemplates(step.input, `${at}/input`, out);
      break;
    case 'delay':
      textTemplate(step.until, `${at}/until`, out);
      break;
    case 'export':
      textTemplate(step.purpose, `${at}/purpose`, out);
      break;
    case 'transform':
    case 'branch':
      break;
  }
  return out;
}

/** The JSONata expressions of one step. */
export function stepJsonata(step: StepDefinition, at: string): readonly JsonataLocation[] {
  if (step.kind === 'transform') return [{ pointer: `${at}/expression`, source: step.expression }];
  if (step.kind === 'branch')
    return step.cases.map((c, i) => ({ pointer: `${at}/cases/${i}/when`, source: c.when }));
  return [];
}

/** What reference checks need to know about the workflow and the step being checked. */
export interface ReferenceContext {
  readonly definition: WorkflowDefinition;
  readonly stepIndex: number;
  readonly indexById: ReadonlyMap<string, number>;
  /** Steps that can run before this one; undefined when the graph is broken (skip order checks). */
  readonly before: ReadonlySet<string> | undefined;
}

function stepReferenceProblem(id: string, ctx: ReferenceContext): string | undefined {
  const index = ctx.indexById.get(id);
  const self = ctx.definition.steps[ctx.stepIndex]?.id;
  if (index === undefined) return `undeclared step ${echo(id)}`;
  if (id === self) return `a step cannot read its own output (${echo(id)})`;
  if (ctx.before === undefined || ctx.before.has(id)) return undefined;
  return index > ctx.stepIndex
    ? `forward reference to step ${echo(id)}, which runs later`
    : `step ${echo(id)} does not run before this step on any path`;
}

function referenceProblem(ref: Reference, site: TemplateSite, ctx: ReferenceContext): string | undefined {
  const first = ref.path[0];
  switch (ref.root) {
    case 'input':
      if (typeof first === 'string' && !Object.hasOwn(ctx.definition.data.fields, first)) {
        return `undeclared data field ${echo(first)} (declare it under data.fields)`;
      }
      return undefined;
    case 'steps':
      return typeof first === 'string' ? stepReferenceProblem(first, ctx) : undefined;
    case 'secrets':
      if (site !== 'header') return 'secrets may only appear in http header values';
      if (typeof first === 'string' && !(ctx.definition.secrets ?? []).includes(first)) {
        return `undeclared secret ${echo(first)} (declare it under secrets)`;
      }
      return undefined;
    case 'run':
      return typeof first === 'string' && RUN_FACTS.has(first) && ref.path.length === 1
        ? undefined
        : 'run facts are run.id, run.workflow and run.environment';
  }
}

function ruleOf(err: unknown): string {
  if (err instanceof CustosError) return err.details.rule ?? err.message;
  throw err;
}

/** Problems of every template and JSONata expression of one step. */
export function expressionProblems(step: StepDefinition, at: string, ctx: ReferenceContext): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  for (const t of stepTemplates(step, at)) {
    let refs: readonly Reference[];
    try {
      refs = templateReferences(parseTemplate(t.text));
    } catch (err) {
      problems.push({ field: t.pointer, rule: ruleOf(err) });
      continue;
    }
    for (const ref of refs) {
      const rule = referenceProblem(ref, t.site, ctx);
      if (rule !== undefined) problems.push({ field: t.pointer, rule });
    }
  }
  for (const j of stepJsonata(step, at)) {
    try {
      const { references } = compileJsonata(j.source);
      if (references.secrets)
        problems.push({ field: j.pointer, rule: 'secrets may only appear in http header values' });
      for (const id of references.steps) {
        const rule = stepReferenceProblem(id, ctx);
        if (rule !== undefined) problems.push({ field: j.pointer, rule });
      }
    } catch (err) {
      problems.push({ field: j.pointer, rule: ruleOf(err) });
    }
  }
  return problems;
}

/** Data fields a step's templates read directly from the input (`input.<field>`), by template pointer. */
export function inputFieldsRead(
  step: StepDefinition,
  at: string,
): readonly { pointer: string; field: string }[] {
  const out: { pointer: string; field: string }[] = [];
  for (const t of stepTemplates(step, at)) {
    let refs: readonly Reference[];
    try {
      refs = templateReferences(parseTemplate(t.text));
    } catch {
      continue;
    }
    for (const r of refs) {
      const first = r.path[0];
      if (r.root === 'input' && typeof first === 'string') out.push({ pointer: t.pointer, field: first });
    }
  }
  return out;
}
