// Renders `{{ … }}` templates against an expression scope: text (optionally URL-encoding each
// value), or JSON templates whose single-expression strings keep the referenced value's type.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { ExpressionScope } from '../step-contract.ts';
import { parseTemplate, type Reference, type Template, type TemplateExpression } from './template.ts';

/** Largest string any rendering may produce. */
export const MAX_RENDERED_CHARS = 1024 * 1024;
const MAX_JSON_DEPTH = 64;

export interface RenderOptions {
  /** Secret values by name, resolved by the caller for this template only (http header values). */
  readonly secrets?: ReadonlyMap<string, string>;
  /** Applied to every interpolated value (not to literal text), e.g. encodeURIComponent in paths. */
  readonly encode?: (value: string) => string;
}

function failed(rule: string): never {
  throw new CustosError('ENGINE_EXPRESSION_FAILED', `Template could not be rendered: ${rule}`, {
    details: { rule },
  });
}

function isRecord(v: JsonValue | undefined): v is Readonly<Record<string, JsonValue>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Look a reference up in the scope: own properties of JSON values only; missing → undefined. */
export function resolveReference(
  ref: Reference,
  scope: ExpressionScope,
  secrets?: ReadonlyMap<string, string>,
): JsonValue | undefined {
  if (ref.root === 'secrets') {
    const name = ref.path[0];
    const value = typeof name === 'string' ? secrets?.get(name) : undefined;
    if (value === undefined) failed('secrets are only available in http header values');
    return value;
  }
  let current: JsonValue | undefined =
    ref.root === 'input' ? scope.input : ref.root === 'run' ? { ...scope.run } : stepsAsJson(scope);
  for (const seg of ref.path) {
    if (typeof seg === 'number') {
      current = Array.isArray(current) ? (current as readonly JsonValue[])[seg] : undefined;
    } else if (isRecord(current) && Object.hasOwn(current, seg)) {
      current = current[seg];
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

function stepsAsJson(scope: ExpressionScope): JsonValue {
  const out: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  for (const [id, s] of Object.entries(scope.steps)) out[id] = { output: s.output };
  return out;
}

function applyFilters(value: JsonValue | undefined, expr: TemplateExpression): JsonValue | undefined {
  let v = value;
  for (const f of expr.filters) {
    switch (f) {
      case 'json':
        v = JSON.stringify(v ?? null);
        break;
      case 'url':
        v = encodeURIComponent(toText(v));
        break;
      case 'string':
        v = toText(v);
        break;
      case 'lower':
        v = typeof v === 'string' ? v.toLowerCase() : v;
        break;
      case 'upper':
        v = typeof v === 'string' ? v.toUpperCase() : v;
        break;
      case 'trim':
        v = typeof v === 'string' ? v.trim() : v;
        break;
    }
  }
  return v;
}

/** How a value appears inside text: strings as is, null/missing as empty, structures as JSON. */
function toText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function evaluate(
  expr: TemplateExpression,
  scope: ExpressionScope,
  options: RenderOptions,
): JsonValue | undefined {
  return applyFilters(resolveReference(expr.reference, scope, options.secrets), expr);
}

/** Render a parsed template to text. Throws ENGINE_EXPRESSION_FAILED / ENGINE_EXPRESSION_LIMIT. */
export function renderTemplateText(
  template: Template,
  scope: ExpressionScope,
  options: RenderOptions = {},
): string {
  let out = '';
  for (const part of template.parts) {
    if (part.kind === 'text') {
      out += part.text;
    } else {
      const text = toText(evaluate(part.expression, scope, options));
      out += options.encode === undefined ? text : options.encode(text);
    }
    if (out.length > MAX_RENDERED_CHARS) {
      throw new CustosError('ENGINE_EXPRESSION_LIMIT', 'Rendered template is too large', {
        details: { rule: `at most ${MAX_RENDERED_CHARS} characters` },
      });
    }
  }
  return out;
}

/** Parse and render a template string to text. */
export function renderText(text: string, scope: ExpressionScope, options: RenderOptions = {}): string {
  return renderTemplateText(parseTemplate(text), scope, options);
}

/**
 * Render a JSON template: every string is a template; a string that is exactly one `{{ … }}`
 * becomes the referenced value itself (missing → null). Keys are literal.
 */
export function renderJson(template: JsonValue, scope: ExpressionScope, depth = 0): JsonValue {
  if (depth > MAX_JSON_DEPTH) failed(`JSON template nested deeper than ${MAX_JSON_DEPTH}`);
  if (typeof template === 'string') {
    if (!template.includes('{{')) return template;
    const parsed = parseTemplate(template);
    if (parsed.single !== undefined) return evaluate(parsed.single, scope, {}) ?? null;
    return renderTemplateText(parsed, scope);
  }
  if (Array.isArray(template)) {
    return (template as readonly JsonValue[]).map((v) => renderJson(v, scope, depth + 1));
  }
  if (isRecord(template)) {
    const out: Record<string, JsonValue> = {};
    // defineProperty, not assignment: a `__proto__` key must stay data, never reach the prototype.
    for (const [k, v] of Object.entries(template)) {
      Object.defineProperty(out, k, {
        value: renderJson(v, scope, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return template;
}
