// Parsing an NDJSON import: one record per line (`{"id": …, <fields>}`), every bad line reported with its
// line number and rule (never its content), with limits on size, line length and record count.
import type { ErrorProblem } from '../errors/index.ts';
import { validateRecord } from './record-codec.ts';
import type { DataSchema } from './schema.ts';

export const RECORD_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface ImportLimits {
  readonly maxBytes: number;
  readonly maxLineBytes: number;
  readonly maxRecords: number;
  /** Problems reported before the rest are summarized in one line. */
  readonly maxProblems: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxLineBytes: 1024 * 1024,
  maxRecords: 1_000_000,
  maxProblems: 1000,
};

export interface ImportLine {
  readonly line: number;
  readonly id: string;
  readonly fields: Record<string, unknown>;
}

/** Parse and validate every line; `problems` is empty only when every record is valid. */
export function parseImport(
  schema: DataSchema,
  text: string,
  limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
): { records: ImportLine[]; problems: ErrorProblem[] } {
  const problems: ErrorProblem[] = [];
  const records: ImportLine[] = [];
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    return { records, problems: [{ field: '/', rule: `import of at most ${limits.maxBytes} bytes` }] };
  }
  const firstLine = new Map<string, number>();
  const report = (line: number, what: string, rule: string): void => {
    problems.push({ field: what === '' ? `line ${line}` : `line ${line}: ${what}`, rule, line });
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && problems.length < limits.maxProblems; i++) {
    const line = i + 1;
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (raw.trim() === '') continue;
    if (Buffer.byteLength(raw, 'utf8') > limits.maxLineBytes) {
      report(line, '', `a line of at most ${limits.maxLineBytes} bytes`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      report(line, '', 'valid JSON');
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(line, '', 'a JSON object');
      continue;
    }
    const { id, ...fields } = value as Record<string, unknown>;
    if (typeof id !== 'string' || !RECORD_ID.test(id)) {
      report(line, 'id', 'a record id of 1 to 128 characters [A-Za-z0-9._:@-]');
    } else {
      const seen = firstLine.get(id);
      if (seen !== undefined) report(line, 'id', `unique in the import (also on line ${seen})`);
      else firstLine.set(id, line);
    }
    for (const p of validateRecord(schema, fields)) report(line, p.field, p.rule);
    if (typeof id === 'string') records.push({ line, id, fields });
    if (records.length > limits.maxRecords) {
      report(line, '', `at most ${limits.maxRecords} records per import`);
      break;
    }
  }
  if (problems.length >= limits.maxProblems) {
    problems.push({ field: '/', rule: `more problems not listed (stopped after ${limits.maxProblems})` });
  }
  if (records.length === 0 && problems.length === 0)
    problems.push({ field: '/', rule: 'at least one record' });
  return { records, problems };
}
