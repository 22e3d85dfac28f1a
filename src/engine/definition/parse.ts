// Reading a definition file (YAML or JSON) defensively: size, nesting and alias limits, no tags, no
// duplicate keys; every problem is mapped from its JSON Pointer to a line and column in the text.
import {
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import { CustosError, type ErrorProblem } from '../../errors/index.ts';
import { LIMITS } from './schema.ts';
import type { WorkflowDefinition } from './types.ts';
import { checkWorkflow, definitionError, type ValidateOptions, type WorkflowCheck } from './validate.ts';

export interface ParseOptions extends ValidateOptions {
  /** Names the source in messages; `.json` selects strict JSON, anything else YAML. */
  readonly filename?: string;
}

const MAX_RAW_NESTING = 256;

/** A cheap pre-scan so a pathological `[[[[…` never reaches the parser. */
function rawNestingExceeds(text: string, limit: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

function unescapeToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Offset in `text` of the node a JSON Pointer names (the key of a mapping entry), or the nearest parent. */
function offsetOf(doc: Document, pointer: string): number {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
  const tokens = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeToken);
  for (const token of tokens) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === token);
      if (pair === undefined) break;
      const keyNode = isNode(pair.key) ? pair.key : undefined;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(token)];
      if (!isNode(item)) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function locate(doc: Document, counter: LineCounter, problem: ErrorProblem): ErrorProblem {
  const pos = counter.linePos(offsetOf(doc, problem.field));
  return { ...problem, line: pos.line, column: pos.col };
}

function at(counter: LineCounter, offset: number, field: string, rule: string): ErrorProblem {
  const pos = counter.linePos(offset);
  return { field, rule, line: pos.line, column: pos.col };
}

/** Strict JSON syntax check; the error position is mapped to a line and column. */
function jsonProblem(text: string, counter: LineCounter): ErrorProblem | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
    return at(counter, m?.[1] === undefined ? 0 : Number(m[1]), '', 'JSON syntax error');
  }
}

/** Syntax-level problems: YAML errors, tags, aliases. */
function documentProblems(doc: Document, counter: LineCounter): ErrorProblem[] {
  const problems = doc.errors.map((e) =>
    at(counter, e.pos[0], '', `YAML syntax: ${e.code.toLowerCase().replaceAll('_', ' ')}`),
  );
  let aliases = 0;
  visit(doc, {
    Alias(_key, node) {
      if (++aliases === LIMITS.maxAliases + 1) {
        problems.push(at(counter, node.range?.[0] ?? 0, '', `more than ${LIMITS.maxAliases} YAML aliases`));
      }
    },
    Node(_key, node: Node) {
      if (
        !isAlias(node) &&
        (isScalar(node) || isCollection(node)) &&
        node.tag !== undefined &&
        !isPair(node)
      ) {
        problems.push(at(counter, node.range?.[0] ?? 0, '', 'YAML tags are not allowed'));
      }
    },
  });
  return problems;
}

/**
 * Check a definition text without throwing for bad content: every problem with its JSON Pointer,
 * line and column. Throws ENGINE_DEFINITION_TOO_LARGE above the size limit.
 */
export function checkWorkflowText(text: string, options: ParseOptions = {}): WorkflowCheck {
  const source = options.filename ?? 'workflow';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.maxBytes) {
    throw new CustosError(
      'ENGINE_DEFINITION_TOO_LARGE',
      `${source}: definition is larger than ${LIMITS.maxBytes} bytes`,
      {
        details: { field: '/', rule: `at most ${LIMITS.maxBytes} bytes` },
      },
    );
  }
  const counter = new LineCounter();
  const deep = rawNestingExceeds(text, MAX_RAW_NESTING);
  if (deep !== undefined) {
    for (let i = text.indexOf('\n'); i >= 0 && i < deep; i = text.indexOf('\n', i + 1))
      counter.addNewLine(i + 1);
    return { ok: false, problems: [at(counter, deep, '', `brackets nested deeper than ${MAX_RAW_NESTING}`)] };
  }
  const doc = parseDocument(text, {
    lineCounter: counter,
    uniqueKeys: true,
    prettyErrors: false,
    version: '1.2',
  });
  const isJson = source.toLowerCase().endsWith('.json');
  const syntax = [
    ...(isJson ? [jsonProblem(text, counter)].filter((p) => p !== undefined) : []),
    ...documentProblems(doc, counter),
  ];
  if (syntax.length > 0) return { ok: false, problems: syntax };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return { ok: false, problems: [at(counter, 0, '', 'YAML aliases expand too much')] };
  }
  const result = checkWorkflow(value, options);
  return result.ok ? result : { ok: false, problems: result.problems.map((p) => locate(doc, counter, p)) };
}

/**
 * Parse and validate a workflow definition from YAML or JSON text. Throws ENGINE_DEFINITION_INVALID
 * (every problem with line and column in `details.problems`) or ENGINE_DEFINITION_TOO_LARGE.
 */
export function parseWorkflow(text: string, options: ParseOptions = {}): WorkflowDefinition {
  const result = checkWorkflowText(text, options);
  if (!result.ok) throw definitionError(options.filename ?? 'workflow', result.problems);
  return result.definition;
}
