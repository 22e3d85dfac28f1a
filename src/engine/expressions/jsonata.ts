// JSONata for transform and branch steps, guarded: compiled once with its step references
// extracted, regexes and $eval refused, and every evaluation bounded in time, depth, size and by
// the caller's AbortSignal.
import jsonata from 'jsonata';
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { ExpressionScope } from '../step-contract.ts';

export interface JsonataLimits {
  readonly timeoutMs: number;
  readonly maxDepth: number;
  readonly maxSequence: number;
  /** Longest string any sub-expression may produce, and the size of the JSON result. */
  readonly maxChars: number;
}

export const DEFAULT_JSONATA_LIMITS: JsonataLimits = {
  timeoutMs: 1_000,
  maxDepth: 200,
  maxSequence: 100_000,
  maxChars: 1024 * 1024,
};

/** What a JSONata expression reads from the scope, found statically. */
export interface JsonataReferences {
  /** Step ids read as `steps.<id>`. */
  readonly steps: readonly string[];
  /** True when the expression names `secrets` (never allowed outside http header values). */
  readonly secrets: boolean;
}

export interface CompiledJsonata {
  readonly source: string;
  readonly references: JsonataReferences;
}

interface AstNode {
  readonly type?: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly steps?: readonly AstNode[];
  readonly procedure?: AstNode;
}

/** Functions that would defeat static reference checks or the time guard. */
const FORBIDDEN_FUNCTIONS = new Set(['eval']);
const MAX_AST_NODES = 10_000;

function invalid(rule: string, position?: number): never {
  throw new CustosError('ENGINE_EXPRESSION_INVALID', `JSONata expression is invalid: ${rule}`, {
    details: { rule, ...(position === undefined ? {} : { offset: position }) },
  });
}

function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walk every node of the AST (it is plain data) collecting references and refusing what we forbid. */
function inspect(ast: unknown): JsonataReferences {
  const steps = new Set<string>();
  let secrets = false;
  let visited = 0;
  // Names after the first step of a path are member names (`input.secrets`), not scope roots.
  const members = new WeakSet<object>();
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++visited > MAX_AST_NODES) invalid(`more than ${MAX_AST_NODES} syntax nodes`);
    if (Array.isArray(node)) {
      for (const child of node as unknown[]) stack.push(child);
      continue;
    }
    if (!isNode(node)) continue;
    if (node.type === 'regex' || node.type === 'regexp') {
      invalid('regular expressions are not allowed (they cannot be interrupted)', node.position);
    }
    if (
      node.type === 'function' &&
      node.procedure?.type === 'variable' &&
      typeof node.procedure.value === 'string' &&
      FORBIDDEN_FUNCTIONS.has(node.procedure.value)
    ) {
      invalid(`$${node.procedure.value} is not allowed`, node.position);
    }
    if (node.type === 'path' && node.steps !== undefined) {
      const first = node.steps[0];
      const second = node.steps[1];
      if (
        first?.type === 'name' &&
        first.value === 'steps' &&
        second?.type === 'name' &&
        typeof second.value === 'string'
      ) {
        steps.add(second.value);
      }
      for (const step of node.steps.slice(1)) members.add(step);
    }
    if (node.type === 'name' && node.value === 'secrets' && !members.has(node)) secrets = true;
    for (const child of Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return { steps: [...steps], secrets };
}

function parse(source: string, limits: JsonataLimits): jsonata.Expression {
  try {
    return jsonata(source, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
    });
  } catch (err) {
    const e = err as Partial<jsonata.JsonataError>;
    return invalid(`syntax error ${typeof e.code === 'string' ? e.code : ''}`.trim(), e.position);
  }
}

/** Compile an expression and extract its references. Throws ENGINE_EXPRESSION_INVALID. */
export function compileJsonata(
  source: string,
  limits: JsonataLimits = DEFAULT_JSONATA_LIMITS,
): CompiledJsonata {
  return { source, references: inspect(parse(source, limits).ast()) };
}

class LimitExceeded extends Error {}

/** The scope as JSONata sees it: input, step outputs and run facts; never secrets. */
function scopeDocument(scope: ExpressionScope): JsonValue {
  const steps: Record<string, JsonValue> = {};
  for (const [id, s] of Object.entries(scope.steps)) steps[id] = { output: s.output };
  return { input: scope.input, steps, run: { ...scope.run } };
}

/**
 * Evaluate a compiled expression over the scope. Throws ENGINE_EXPRESSION_LIMIT (time, depth,
 * sequence, string size), ENGINE_STEP_ABORTED (signal), ENGINE_EXPRESSION_FAILED (runtime error).
 */
export async function evaluateJsonata(
  compiled: CompiledJsonata,
  scope: ExpressionScope,
  signal: AbortSignal,
  limits: JsonataLimits = DEFAULT_JSONATA_LIMITS,
): Promise<JsonValue> {
  if (signal.aborted) throw aborted();
  const expression = parse(compiled.source, limits);
  // The entry/exit hooks run around every node: cancellation and string growth are checked there.
  const hooks = expression as unknown as { assign(name: symbol, value: unknown): void };
  hooks.assign(Symbol.for('jsonata.__evaluate_entry'), () => {
    if (signal.aborted) throw new LimitExceeded('aborted');
  });
  hooks.assign(
    Symbol.for('jsonata.__evaluate_exit'),
    (_e: unknown, _i: unknown, _env: unknown, result: unknown) => {
      if (typeof result === 'string' && result.length > limits.maxChars) throw new LimitExceeded('string');
    },
  );
  let result: unknown;
  try {
    result = await expression.evaluate(scopeDocument(scope));
  } catch (err) {
    throw mapError(err, signal, limits);
  }
  return toJson(result, limits);
}

function aborted(): CustosError {
  return new CustosError('ENGINE_STEP_ABORTED', 'Expression evaluation was cancelled');
}

function mapError(err: unknown, signal: AbortSignal, limits: JsonataLimits): CustosError {
  if (err instanceof LimitExceeded) {
    if (err.message === 'aborted' || signal.aborted) return aborted();
    return limitError(`strings at most ${limits.maxChars} characters`);
  }
  if (err instanceof RangeError) return limitError('string or stack size');
  const code = (err as { code?: unknown }).code;
  if (code === 'D1012') return limitError(`time limit ${limits.timeoutMs} ms`);
  if (code === 'D1011') return limitError(`depth limit ${limits.maxDepth}`);
  if (code === 'D2014' || code === 'D2015') return limitError(`sequence limit ${limits.maxSequence}`);
  // JSONata messages can quote input values; only the code is kept.
  const rule = typeof code === 'string' ? `JSONata error ${code}` : 'evaluation error';
  return new CustosError('ENGINE_EXPRESSION_FAILED', `Expression failed: ${rule}`, { details: { rule } });
}

function limitError(rule: string): CustosError {
  return new CustosError('ENGINE_EXPRESSION_LIMIT', `Expression exceeded a limit: ${rule}`, {
    details: { rule },
  });
}

/** JSONata results may be sequences or functions: keep plain JSON, undefined → null. */
function toJson(result: unknown, limits: JsonataLimits): JsonValue {
  if (result === undefined || typeof result === 'function' || typeof result === 'symbol') return null;
  let text: string;
  try {
    text = JSON.stringify(result);
  } catch {
    throw new CustosError('ENGINE_EXPRESSION_FAILED', 'Expression result is not JSON', {
      details: { rule: 'JSON result' },
    });
  }
  if (text.length > limits.maxChars) throw limitError(`result at most ${limits.maxChars} characters`);
  return JSON.parse(text) as JsonValue;
}

/** JSONata `$boolean` semantics for branch conditions: an array is true when any member is. */
export function isTruthy(value: JsonValue): boolean {
  if (value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).some(isTruthy);
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
