// Reading a data schema file: YAML with duplicate keys and aliases refused (with their line), a size limit,
// and a map from each key path to its line so later checks can point at the source.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ErrorProblem } from '../errors/index.ts';

export const MAX_SCHEMA_BYTES = 256 * 1024;

export interface YamlSource {
  readonly value: unknown;
  /** Line (1-based) where the key at a dotted path is written, if known. */
  readonly lineOf: (path: string) => number | undefined;
  readonly problems: ErrorProblem[];
}

/** Parse YAML text into a plain value; problems hold syntax errors, duplicate keys and aliases. */
export function readYaml(text: string): YamlSource {
  const lines = new Map<string, number>();
  const problems: ErrorProblem[] = [];
  if (Buffer.byteLength(text, 'utf8') > MAX_SCHEMA_BYTES) {
    problems.push({ field: '/', rule: `at most ${MAX_SCHEMA_BYTES} bytes` });
    return { value: undefined, lineOf: () => undefined, problems };
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    uniqueKeys: false,
    lineCounter: counter,
    prettyErrors: false,
  });
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push({
      field: pos ? `line ${pos.line}` : '/',
      rule: `valid YAML (${e.code})`,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
    });
  }
  if (problems.length > 0) return { value: undefined, lineOf: () => undefined, problems };
  const lineAt = (node: Node | null | undefined): number | undefined =>
    node?.range ? counter.linePos(node.range[0]).line : undefined;

  const walk = (node: unknown, path: string): unknown => {
    if (isAlias(node)) {
      problems.push({ field: path || '/', rule: 'no YAML aliases', ...withLine(lineAt(node)) });
      return undefined;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
          problems.push({ field: path || '/', rule: 'keys are plain strings', ...withLine(lineAt(keyNode)) });
          continue;
        }
        const key = keyNode.value;
        const child = path === '' ? key : `${path}.${key}`;
        const line = lineAt(keyNode);
        if (seen.has(key)) {
          problems.push({ field: child, rule: 'declared only once (duplicate key)', ...withLine(line) });
          continue;
        }
        seen.add(key);
        if (line !== undefined) lines.set(child, line);
        Object.defineProperty(out, key, {
          value: walk(pair.value, child),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, i) => walk(item, `${path}[${i}]`));
    if (isScalar(node)) return node.value;
    return node === null ? null : undefined;
  };
  const value = walk(doc.contents, '');
  return { value, lineOf: (p) => lines.get(p), problems };
}

function withLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}
