// scanDocument: PII in a document given as text, JSON or NDJSON (or guessed); malformed JSON is
// reported by line, column and rule, never by quoting the input.
import { CustosError } from '../../errors/index.ts';
import { findJsonSyntaxError, lineColumn } from './json-error.ts';
import { scanJsonWithPlan } from './json-scan.ts';
import { compilePlan } from './plan.ts';
import { countFindings, scanWithPlan } from './scanner.ts';
import type { DocumentFormat, DocumentScanResult, JsonFinding, ScanOptions } from './types.ts';

/** Largest document accepted, in UTF-16 code units (256 Mi; a JS string holds at most ~512 Mi). */
export const MAX_DOCUMENT_LENGTH = 256 * 1024 * 1024;

const FORMATS: readonly (DocumentFormat | 'auto')[] = ['text', 'json', 'ndjson', 'auto'];

function invalid(
  message: string,
  details: { field: string; rule: string; line?: number; column?: number },
): CustosError {
  return new CustosError('INPUT_INVALID', message, { details });
}

/** Parse JSON, or throw INPUT_INVALID naming line, column and rule (relative to `lineBase`). */
function parseJson(text: string, lineBase = 0): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const error = findJsonSyntaxError(text) ?? { offset: 0, rule: 'invalid JSON' };
    const { line, column } = lineColumn(text, error.offset);
    const at = line + lineBase;
    throw invalid(`Malformed JSON at line ${at}, column ${column}: ${error.rule}`, {
      field: 'input',
      rule: error.rule,
      line: at,
      column,
    });
  }
}

interface Line {
  readonly index: number;
  readonly text: string;
}

function ndjsonLines(input: string): Line[] {
  const lines: Line[] = [];
  let index = 0;
  let start = 0;
  while (start <= input.length) {
    const nl = input.indexOf('\n', start);
    const end = nl === -1 ? input.length : nl;
    const text = input.slice(start, end > start && input.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (text.trim() !== '') lines.push({ index, text });
    if (nl === -1) break;
    index++;
    start = nl + 1;
  }
  return lines;
}

const NOT_JSON: unique symbol = Symbol('not JSON');

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

type Parsed =
  | { readonly format: 'text' }
  | { readonly format: 'json'; readonly value: unknown }
  | {
      readonly format: 'ndjson';
      readonly values: readonly { readonly index: number; readonly value: unknown }[];
    };

/** What 'auto' reads the input as: JSON when it parses, NDJSON when every line does, else text. */
function detect(input: string): Parsed {
  const first = input.trimStart().charCodeAt(0);
  if (first !== 123 && first !== 91) return { format: 'text' };
  const whole = tryParse(input);
  if (whole !== NOT_JSON) return { format: 'json', value: whole };
  const values: { index: number; value: unknown }[] = [];
  for (const line of ndjsonLines(input)) {
    const value = tryParse(line.text);
    if (value === NOT_JSON) return { format: 'text' };
    values.push({ index: line.index, value });
  }
  return values.length > 1 ? { format: 'ndjson', values } : { format: 'text' };
}

function parseAs(input: string, format: DocumentFormat): Parsed {
  if (format === 'text') return { format };
  if (format === 'json') return { format, value: parseJson(input) };
  return {
    format,
    values: ndjsonLines(input).map((l) => ({ index: l.index, value: parseJson(l.text, l.index) })),
  };
}

/**
 * Find PII in a document. `format` 'auto' (the default) reads JSON or NDJSON when the input is
 * well-formed as such and falls back to text, so nothing goes unscanned. NDJSON findings' paths
 * start with `/<line index>` (0-based, counting blank lines).
 * @throws CustosError INPUT_INVALID for a non-string or oversized input, an unknown format, or
 *   malformed JSON/NDJSON (details name line, column and rule); PRIVACY_PATTERN_INVALID for a
 *   rejected custom pattern.
 */
export function scanDocument(
  input: string,
  format: DocumentFormat | 'auto' = 'auto',
  options?: ScanOptions,
): DocumentScanResult {
  if (typeof input !== 'string')
    throw invalid('Document must be a string', { field: 'input', rule: 'string' });
  if (input.length > MAX_DOCUMENT_LENGTH) {
    throw invalid('Document is too large', {
      field: 'input',
      rule: `at most ${MAX_DOCUMENT_LENGTH} characters`,
    });
  }
  if (!FORMATS.includes(format)) {
    throw invalid('Document format is unknown', { field: 'format', rule: 'text, json, ndjson or auto' });
  }
  const plan = compilePlan(options);
  const parsed = format === 'auto' ? detect(input) : parseAs(input, format);
  if (parsed.format === 'text') {
    const findings = scanWithPlan(input, plan, undefined);
    return { format: 'text', findings, counts: countFindings(findings, plan.categories) };
  }
  const out: JsonFinding[] = [];
  if (parsed.format === 'json') {
    scanJsonWithPlan(parsed.value, plan, undefined, out);
  } else {
    for (const { index, value } of parsed.values) {
      scanJsonWithPlan(value, plan, { parent: undefined, token: String(index) }, out);
    }
  }
  return { format: parsed.format, findings: out, counts: countFindings(out, plan.categories) };
}
