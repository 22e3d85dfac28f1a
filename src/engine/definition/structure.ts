// Structural validation of a definition value: nesting depth, then the published JSON Schema (Ajv).
// Every problem names a JSON Pointer and the rule; values are never echoed.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ErrorProblem } from '../../errors/index.ts';
import { LIMITS, WORKFLOW_SCHEMA } from './schema.ts';

let compiled: ValidateFunction | undefined;

/** The compiled workflow schema, compiled on first use: commands that never check a definition skip it. */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true, discriminator: true }).compile(WORKFLOW_SCHEMA);
  return compiled;
}

/** A JSON Pointer token (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

const SAFE_ECHO = /^[A-Za-z0-9_.:@/-]{1,64}$/;

/** Quote a user-supplied identifier in a message only when it cannot carry anything sensitive. */
export function echo(value: unknown): string {
  return typeof value === 'string' && SAFE_ECHO.test(value) ? `'${value}'` : '(value not shown)';
}

function problemOf(e: ErrorObject): ErrorProblem {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { field: `${at}/${pointerToken(String(params.additionalProperty))}`, rule: 'unknown property' };
    case 'required':
      return { field: at, rule: `missing required property ${echo(params.missingProperty)}` };
    case 'discriminator': {
      const tag = String(params.tag);
      if (params.error === 'mapping') {
        const what = tag === 'kind' && /^\/steps\/\d+$/.test(at) ? 'step kind' : tag;
        return { field: `${at}/${tag}`, rule: `unknown ${what} ${echo(params.tagValue)}` };
      }
      return { field: at, rule: `missing or non-string ${tag}` };
    }
    case 'enum':
      return { field: at, rule: `one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { field: at, rule: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { field: at, rule: `must match ${String(params.pattern)}` };
    case 'propertyNames':
      return { field: `${at}/${pointerToken(String(params.propertyName))}`, rule: 'invalid property name' };
    case 'oneOf':
      return { field: at, rule: 'must match exactly one of the allowed shapes' };
    default:
      return { field: at, rule: e.message ?? e.keyword };
  }
}

/** Nesting too deep or a value JSON cannot carry (iterative walk: no stack growth on hostile input). */
function shapeProblem(value: unknown, limit: number): ErrorProblem | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) break;
    const [v, depth, at] = item;
    if (typeof v === 'number' && !Number.isFinite(v)) return { field: at, rule: 'numbers must be finite' };
    if (typeof v === 'bigint') return { field: at, rule: 'number out of range' };
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return { field: at, rule: `nested deeper than ${limit} levels` };
    for (const [k, child] of Object.entries(v)) stack.push([child, depth + 1, `${at}/${pointerToken(k)}`]);
  }
  return undefined;
}

/** Structural problems of a definition value (empty when it matches the schema). */
export function structuralProblems(value: unknown): ErrorProblem[] {
  const shape = shapeProblem(value, LIMITS.maxDepth);
  if (shape !== undefined) return [shape];
  const validateSchema = validator();
  if (validateSchema(value)) return [];
  const seen = new Set<string>();
  const problems: ErrorProblem[] = [];
  for (const e of validateSchema.errors ?? []) {
    // A failing oneOf repeats what its branches already said; the discriminator names the shape.
    if (e.keyword === 'oneOf' && (validateSchema.errors?.length ?? 0) > 1) continue;
    const p = problemOf(e);
    const key = `${p.field}\u0000${p.rule}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  return problems;
}
