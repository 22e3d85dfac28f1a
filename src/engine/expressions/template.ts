// The `{{ … }}` template language: text with embedded references (`input.email`,
// `steps.lookup.output.id`, `secrets.NAME`, `run.id`) and a few pure filters. No calls, no operators.
import { CustosError } from '../../errors/index.ts';

export const TEMPLATE_ROOTS = ['input', 'steps', 'secrets', 'run'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

export const TEMPLATE_FILTERS = ['json', 'url', 'lower', 'upper', 'trim', 'string'] as const;
export type TemplateFilter = (typeof TEMPLATE_FILTERS)[number];

export type PathSegment = string | number;

/** A parsed reference such as `steps.lookup.output.items[0]`. */
export interface Reference {
  readonly root: TemplateRoot;
  /** Segments after the root. */
  readonly path: readonly PathSegment[];
}

export interface TemplateExpression {
  readonly reference: Reference;
  readonly filters: readonly TemplateFilter[];
  /** Offset of the `{{` in the template text. */
  readonly offset: number;
}

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly expression: TemplateExpression };

export interface Template {
  readonly parts: readonly TemplatePart[];
  /** The template is exactly one `{{ … }}` (surrounding whitespace aside): it renders to a typed value. */
  readonly single: TemplateExpression | undefined;
}

const MAX_EXPRESSION_CHARS = 512;
const MAX_SEGMENTS = 32;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

function invalid(rule: string, offset: number): never {
  throw new CustosError('ENGINE_EXPRESSION_INVALID', `Template expression is invalid: ${rule}`, {
    details: { rule, offset },
  });
}

/** Parse the inside of one `{{ … }}` starting at `offset` of the template. */
function parseExpression(source: string, offset: number): TemplateExpression {
  let rest = source.trim();
  const rootMatch = IDENT.exec(rest);
  if (rootMatch === null) invalid('expected a reference such as input.name', offset);
  const root = rootMatch[0];
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
    invalid(`unknown root; use one of ${TEMPLATE_ROOTS.join(', ')}`, offset);
  }
  rest = rest.slice(root.length);
  const path: PathSegment[] = [];
  for (;;) {
    if (path.length > MAX_SEGMENTS) invalid(`more than ${MAX_SEGMENTS} path segments`, offset);
    const dot = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (dot?.[1] !== undefined) {
      path.push(dot[1]);
      rest = rest.slice(dot[0].length);
      continue;
    }
    const index = /^\[\s*(0|[1-9][0-9]{0,8})\s*\]/.exec(rest);
    if (index?.[1] !== undefined) {
      path.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    const quoted = /^\[\s*(?:"([^"\\]{1,256})"|'([^'\\]{1,256})')\s*\]/.exec(rest);
    if (quoted !== null) {
      path.push(quoted[1] ?? quoted[2] ?? '');
      rest = rest.slice(quoted[0].length);
      continue;
    }
    break;
  }
  const filters: TemplateFilter[] = [];
  rest = rest.trim();
  while (rest.startsWith('|')) {
    const m = /^\|\s*([a-z]+)\s*/.exec(rest);
    const name = m?.[1];
    if (m === null || name === undefined || !(TEMPLATE_FILTERS as readonly string[]).includes(name)) {
      invalid(`unknown filter; use one of ${TEMPLATE_FILTERS.join(', ')}`, offset);
    }
    filters.push(name as TemplateFilter);
    rest = rest.slice(m[0].length);
  }
  if (rest !== '') invalid('unexpected characters after the reference (no operators or calls)', offset);
  const reference: Reference = { root: root as TemplateRoot, path };
  if (reference.root === 'secrets' && (path.length !== 1 || typeof path[0] !== 'string')) {
    invalid('a secret reference is exactly secrets.NAME', offset);
  }
  if (reference.root === 'steps' && (typeof path[0] !== 'string' || path[1] !== 'output')) {
    invalid('a step reference is steps.<id>.output[.…]', offset);
  }
  return { reference, filters, offset };
}

/** Parse a template. Throws ENGINE_EXPRESSION_INVALID with the offset of the bad expression. */
export function parseTemplate(text: string): Template {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'text', text: text.slice(i, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) invalid('unterminated {{', open);
    const inner = text.slice(open + 2, close);
    if (inner.length > MAX_EXPRESSION_CHARS) invalid(`expression longer than ${MAX_EXPRESSION_CHARS}`, open);
    if (inner.includes('{{')) invalid('nested {{', open);
    parts.push({ kind: 'expression', expression: parseExpression(inner, open) });
    i = close + 2;
  }
  const expressions = parts.filter((p) => p.kind === 'expression');
  const onlyWhitespaceText = parts.every((p) => p.kind === 'expression' || p.text.trim() === '');
  const first = expressions[0];
  const single =
    expressions.length === 1 && onlyWhitespaceText && first !== undefined ? first.expression : undefined;
  return { parts, single };
}

/** True when `text` contains a `{{`: only such strings are templates. */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/** Every reference in a template, in order. */
export function templateReferences(template: Template): readonly Reference[] {
  const out: Reference[] = [];
  for (const p of template.parts) if (p.kind === 'expression') out.push(p.expression.reference);
  return out;
}

/** `input.items[0].id` for messages and docs. */
export function formatReference(ref: Reference): string {
  return ref.path.reduce<string>(
    (acc, seg) =>
      typeof seg === 'number'
        ? `${acc}[${seg}]`
        : /^[A-Za-z_]\w*$/.test(seg)
          ? `${acc}.${seg}`
          : `${acc}["${seg}"]`,
    ref.root,
  );
}
